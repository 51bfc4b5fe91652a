package framework_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
)

const crdName = "flinkdeployments.flink.apache.org"

func TestFleetStartsHubAndMembersAndStopsThem(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	fleet, err := framework.StartFleet(framework.FleetOptions{Members: 3})
	if err != nil {
		t.Fatalf("start fleet: %v", err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = fleet.Stop()
		}
	}()

	if got := len(fleet.Members); got != 3 {
		t.Fatalf("members: got %d, want 3", got)
	}
	hosts := map[string]string{}
	for _, cp := range append([]*framework.ControlPlane{fleet.Hub}, fleet.Members...) {
		if prev, dup := hosts[cp.Config.Host]; dup {
			t.Fatalf("%s and %s share apiserver %s", prev, cp.Name, cp.Config.Host)
		}
		hosts[cp.Config.Host] = cp.Name

		// The kubeconfig must work on its own, as a member Secret will use it.
		c := clientFromKubeconfig(t, cp.Kubeconfig)
		var nss corev1.NamespaceList
		if err := c.List(ctx, &nss); err != nil {
			t.Fatalf("%s: list namespaces with its kubeconfig: %v", cp.Name, err)
		}
	}

	for _, m := range fleet.Members {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := m.Client.Get(ctx, types.NamespacedName{Name: crdName}, &crd); err != nil {
			t.Fatalf("%s: our CRD is not installed: %v", m.Name, err)
		}
		var list flinkv1beta1.FlinkDeploymentList
		if err := m.Client.List(ctx, &list); err != nil {
			t.Fatalf("%s: list FlinkDeployments: %v", m.Name, err)
		}
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := fleet.Hub.Client.Get(ctx, types.NamespacedName{Name: crdName}, &crd); !apierrors.IsNotFound(err) {
		t.Fatalf("hub: FlinkDeployment CRD should not be installed, got err=%v", err)
	}

	// Writes to one member are not visible in another: they are separate
	// etcds, not namespaces of one.
	if err := fleet.Members[0].CreateNamespace(ctx, "only-in-member-1"); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	var ns corev1.Namespace
	if err := fleet.Members[1].Client.Get(ctx, types.NamespacedName{Name: "only-in-member-1"}, &ns); !apierrors.IsNotFound(err) {
		t.Fatalf("member-2 sees member-1's namespace: err=%v", err)
	}

	if err := fleet.Stop(); err != nil {
		t.Fatalf("stop fleet: %v", err)
	}
	stopped = true
	for host, name := range hosts {
		if reachable(host) {
			t.Errorf("%s (%s) still answers after Stop", name, host)
		}
	}
}

func TestMissingBinariesSayHowToRebuild(t *testing.T) {
	t.Setenv("KUBEBUILDER_ASSETS", t.TempDir())
	_, err := framework.StartControlPlane(framework.ControlPlaneOptions{Name: "nowhere"})
	if err == nil {
		t.Fatal("start with no binaries: want an error")
	}
	for _, want := range []string{"kube-apiserver is missing", "etcd is missing", "make test-bins"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func clientFromKubeconfig(t *testing.T, kubeconfig []byte) client.Client {
	t.Helper()
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatalf("parse kubeconfig: %v", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: framework.Scheme})
	if err != nil {
		t.Fatalf("client from kubeconfig: %v", err)
	}
	return c
}

func reachable(host string) bool {
	cfg := &rest.Config{Host: host, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, Timeout: 2 * time.Second}
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return false
	}
	resp, err := (&http.Client{Transport: rt, Timeout: 2 * time.Second}).Get(host + "/readyz")
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return true
}
