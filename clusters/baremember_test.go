package clusters_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/framework"
)

// TestBareMemberGetsTheCRDAndIsIndexed registers a member without the
// FlinkDeployment CRD: the hub installs it, and the member's
// FlinkDeployments then reach the fleet index.
func TestBareMemberGetsTheCRDAndIsIndexed(t *testing.T) {
	bare, err := framework.StartControlPlane(framework.ControlPlaneOptions{Name: "bare"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // runs after the hub has stopped
		if err := bare.Stop(); err != nil {
			t.Error(err)
		}
	})
	const ns = "bare"
	hub := startHub(t, testOptions(ns))
	if err := fleet.Hub.Client.Create(t.Context(), memberSecret(ns, "bare", bare.Kubeconfig)); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ns, "bare", metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
	eventually(t, 30*time.Second, "CRD installed in the bare member", func() error {
		_, mc, err := readyCondition(t.Context(), ns, "bare")
		if err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(mc.Status.Conditions, hubv1alpha1.ConditionCRDInstalled) {
			return fmt.Errorf("conditions %+v", mc.Status.Conditions)
		}
		return nil
	})
	eventually(t, 30*time.Second, "FlinkDeployment created in the bare member", func() error {
		return tryCreateFlinkDeployment(bare, "bare-apps", "first")
	})
	eventually(t, 30*time.Second, "bare member's deployment indexed", func() error {
		got, err := deploymentKeys(t, hub, "?cluster=bare")
		if err != nil {
			return err
		}
		if want := []string{"bare/bare-apps/first"}; !reflect.DeepEqual(got, want) {
			return fmt.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
}
