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
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters"
	"github.com/flink-hub/flink-hub/internal/clusters/crdinstall"
)

// TestBareMemberGetsTheCRDAndIsIndexed registers a member without the
// FlinkDeployment CRD: the hub installs it, and the member's
// FlinkDeployments then reach the fleet index.
func TestBareMemberGetsTheCRDAndIsIndexed(t *testing.T) {
	bare, hub := startOwnMember(t, "bare")
	waitCRDInstalled(t, "bare", metav1.ConditionTrue, hubv1alpha1.ReasonInstalled, "")
	waitIndexed(t, hub, bare, "bare-apps", "first")
}

// TestForeignCRDIsLeftAlone registers a member whose FlinkDeployment CRD
// someone else installed (the Apache operator's, as its chart would): the
// hub leaves it alone, says so on the MemberCluster, and still indexes the
// member's FlinkDeployments.
func TestForeignCRDIsLeftAlone(t *testing.T) {
	const crdName = "flinkdeployments.flink.apache.org"
	foreign, hub := startOwnMember(t, "foreign", framework.UpstreamCRDDir())
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := foreign.Client.Get(t.Context(), client.ObjectKey{Name: crdName}, crd); err != nil {
		t.Fatal(err)
	}
	waitCRDInstalled(t, "foreign", metav1.ConditionFalse, hubv1alpha1.ReasonForeignCRD, "field manager")
	waitIndexed(t, hub, foreign, "apps", "theirs")
	after := &apiextensionsv1.CustomResourceDefinition{}
	if err := foreign.Client.Get(t.Context(), client.ObjectKey{Name: crdName}, after); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after.Spec, crd.Spec) || after.Annotations[crdinstall.InstalledByAnnotation] != "" {
		t.Fatal("the hub changed a CRD it did not install")
	}
}

// startOwnMember starts a member control plane with the CRDs of crdDirs
// and a hub in namespace name that registers it as name, waits until it is
// Ready, and stops both when the test ends (the hub first).
func startOwnMember(t *testing.T, name string, crdDirs ...string) (*framework.ControlPlane, *clusters.Hub) {
	t.Helper()
	member, err := framework.StartControlPlane(framework.ControlPlaneOptions{Name: name, CRDDirs: crdDirs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // runs after the hub has stopped
		if err := member.Stop(); err != nil {
			t.Error(err)
		}
	})
	hub := startHub(t, testOptions(name))
	if err := fleet.Hub.Client.Create(t.Context(), memberSecret(name, name, hubKubeconfig(t, member))); err != nil {
		t.Fatal(err)
	}
	waitReady(t, name, name, metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
	return member, hub
}

// waitCRDInstalled waits for the CRDInstalled condition of the member
// registered by startOwnMember, with a message containing msg.
func waitCRDInstalled(t *testing.T, name string, status metav1.ConditionStatus, reason, msg string) {
	t.Helper()
	eventually(t, 30*time.Second, fmt.Sprintf("CRDInstalled=%s/%s", status, reason), func() error {
		_, mc, err := readyCondition(t.Context(), name, name)
		if err != nil {
			return err
		}
		c := meta.FindStatusCondition(mc.Status.Conditions, hubv1alpha1.ConditionCRDInstalled)
		if c == nil || c.Status != status || c.Reason != reason || !strings.Contains(c.Message, msg) {
			return fmt.Errorf("CRDInstalled = %+v", c)
		}
		return nil
	})
}

// waitIndexed creates a FlinkDeployment in the member registered by
// startOwnMember and waits until the fleet index has it.
func waitIndexed(t *testing.T, hub *clusters.Hub, member *framework.ControlPlane, namespace, name string) {
	t.Helper()
	eventually(t, 30*time.Second, "FlinkDeployment created in "+member.Name, func() error {
		return client.IgnoreAlreadyExists(tryCreateFlinkDeployment(member, namespace, name))
	})
	eventually(t, 30*time.Second, member.Name+"'s deployment indexed", func() error {
		got, err := deploymentKeys(t, hub, "?cluster="+member.Name)
		if err != nil {
			return err
		}
		if want := []string{member.Name + "/" + namespace + "/" + name}; !reflect.DeepEqual(got, want) {
			return fmt.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
}
