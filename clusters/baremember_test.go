package clusters_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/clusters/crdinstall"
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

// TestForeignCRDIsLeftAlone registers a member whose FlinkDeployment CRD
// someone else installed (the Apache operator's, as its chart would): the
// hub leaves it alone, says so on the MemberCluster, and still indexes the
// member's FlinkDeployments.
func TestForeignCRDIsLeftAlone(t *testing.T) {
	foreign, err := framework.StartControlPlane(framework.ControlPlaneOptions{Name: "foreign", CRDDirs: []string{framework.UpstreamCRDDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := foreign.Stop(); err != nil {
			t.Error(err)
		}
	})
	const ns, crdName = "foreign", "flinkdeployments.flink.apache.org"
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := foreign.Client.Get(t.Context(), client.ObjectKey{Name: crdName}, crd); err != nil {
		t.Fatal(err)
	}
	hub := startHub(t, testOptions(ns))
	if err := fleet.Hub.Client.Create(t.Context(), memberSecret(ns, "foreign", foreign.Kubeconfig)); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ns, "foreign", metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
	eventually(t, 30*time.Second, "CRDInstalled=False/ForeignCRD", func() error {
		_, mc, err := readyCondition(t.Context(), ns, "foreign")
		if err != nil {
			return err
		}
		c := meta.FindStatusCondition(mc.Status.Conditions, hubv1alpha1.ConditionCRDInstalled)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != hubv1alpha1.ReasonForeignCRD || !strings.Contains(c.Message, "field manager") {
			return fmt.Errorf("CRDInstalled = %+v", c)
		}
		return nil
	})
	eventually(t, 30*time.Second, "the foreign member's deployment indexed", func() error {
		if err := tryCreateFlinkDeployment(foreign, "apps", "theirs"); client.IgnoreAlreadyExists(err) != nil {
			return err
		}
		got, err := deploymentKeys(t, hub, "?cluster=foreign")
		if err != nil {
			return err
		}
		if want := []string{"foreign/apps/theirs"}; !reflect.DeepEqual(got, want) {
			return fmt.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
	after := &apiextensionsv1.CustomResourceDefinition{}
	if err := foreign.Client.Get(t.Context(), client.ObjectKey{Name: crdName}, after); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after.Spec, crd.Spec) || after.Annotations[crdinstall.InstalledByAnnotation] != "" {
		t.Fatal("the hub changed a CRD it did not install")
	}
}
