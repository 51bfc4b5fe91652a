package chart_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/registration"
)

// tokenKubeconfig is a kubeconfig of the hub that authenticates with a
// TokenRequest token of the ServiceAccount ns/name.
func tokenKubeconfig(t *testing.T, ns, name string) ([]byte, *rest.Config) {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(fleet.Hub.Config)
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	admin := fleet.Hub.Config
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["hub"] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: admin.CAData}
	cfg.AuthInfos["sa"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts["sa"] = &clientcmdapi.Context{Cluster: "hub", AuthInfo: "sa", Namespace: ns}
	cfg.CurrentContext = "sa"
	raw, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := clientcmd.RESTConfigFromKubeConfig(raw)
	if err != nil {
		t.Fatal(err)
	}
	return raw, rc
}

// TestInstalledChartRunsTheHub installs the chart into the hub control
// plane, then runs the hub binary with the Deployment's arguments as the
// chart's ServiceAccount: it engages a member registered like `kubectl
// flinkhub cluster add` does (so the member identity suffices too), reconciles a
// FlinkDeployment there, registers its webhook (which rejects an invalid
// FlinkDeployment with the rule) and serves its probes, so the chart's
// RBAC is sufficient. The same identity is refused what the hub must not
// do.
func TestInstalledChartRunsTheHub(t *testing.T) {
	ctx := context.Background()
	const ns = "flink-hub"
	ports, args := installOnFreePorts(t, ns)
	// The release's objects are in the hub.
	var crd apiextensionsv1.CustomResourceDefinition
	if err := fleet.Hub.Client.Get(ctx, client.ObjectKey{Name: "memberclusters.hub.flink-hub.io"}, &crd); err != nil {
		t.Fatalf("chart CRD not installed: %v", err)
	}

	kubeconfig, saConfig := tokenKubeconfig(t, ns, "flink-hub")
	hub := startHubAs(t, kubeconfig, args)
	defer stopHub(t, hub)
	// Register the member as `kubectl flinkhub cluster add` does: the hub
	// then works in the member with the least-privilege identity only.
	member := fleet.Members[0]
	reg := &registration.Registrar{Member: member.Config, MemberClient: member.Client, Hub: fleet.Hub.Client}
	if _, err := reg.Add(ctx, registration.Options{Name: member.Name, HubNamespace: ns, InstallCRDs: true}); err != nil {
		t.Fatal(err)
	}

	t.Run("registers the member", func(t *testing.T) {
		if err := framework.Eventually(ctx, 60*time.Second, func(ctx context.Context) (bool, error) {
			var mc hubv1alpha1.MemberCluster
			if err := fleet.Hub.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: member.Name}, &mc); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			return meta.IsStatusConditionTrue(mc.Status.Conditions, hubv1alpha1.ConditionReady), nil
		}); err != nil {
			t.Fatalf("MemberCluster %s never Ready: %v", member.Name, err)
		}
	})

	t.Run("serves its probes", func(t *testing.T) {
		url := "http://127.0.0.1:" + strconv.Itoa(ports[1]) + "/readyz"
		if err := framework.Eventually(ctx, 60*time.Second, func(ctx context.Context) (bool, error) {
			resp, err := http.Get(url)
			if err != nil {
				return false, nil
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK, nil
		}); err != nil {
			t.Fatalf("%s never ready: %v", url, err)
		}
		// Readiness covers the webhook's serving certificate: a pod whose
		// certificate never loads is not Ready.
		resp, err := http.Get(url + "?verbose")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		if !strings.Contains(string(body), "[+]webhook-certificate ok") {
			t.Errorf("/readyz?verbose does not check the webhook certificate:\n%s", body)
		}
	})

	t.Run("serves the fleet API to users bound to the fleet reader Role only", func(t *testing.T) {
		checkFleetAPIReaderOnly(t, ctx, ns, "127.0.0.1:"+strconv.Itoa(ports[2]), member.Name)
	})

	const appNS = "team-a"
	if err := member.CreateNamespace(ctx, appNS); err != nil {
		t.Fatal(err)
	}
	t.Run("webhook rejects an invalid FlinkDeployment with the rule", func(t *testing.T) {
		checkWebhookRejectsWithRule(t, ctx, member, appNS)
	})

	t.Run("admits and reconciles a valid FlinkDeployment", func(t *testing.T) {
		checkValidDeploymentReconciled(t, ctx, member, appNS)
	})

	t.Run("its identity is refused what the hub must not do", func(t *testing.T) {
		checkIdentityRefused(t, ctx, saConfig, ns, member.Name)
	})
}

// installOnFreePorts installs the chart into ns with free loopback ports
// (metrics, health, fleet API, webhook) and returns them with the hub
// container's arguments as replica flink-hub-0 gets them.
func installOnFreePorts(t *testing.T, ns string) ([]int, []string) {
	t.Helper()
	ports, err := framework.FreePorts(4)
	if err != nil {
		t.Fatal(err)
	}
	webhookURL := "https://127.0.0.1:" + strconv.Itoa(ports[3]) + "/validate-flinkdeployment"
	r := install(t, fleet.Hub.Kubeconfig, "flink-hub", ns, map[string]any{
		"ports":   map[string]any{"metrics": ports[0], "health": ports[1], "fleet": ports[2], "webhook": ports[3]},
		"members": map[string]any{"health": map[string]any{"debounce": "0s", "interval": "1s"}},
		"webhook": map[string]any{"url": webhookURL, "failurePolicy": "Fail"},
	})
	_, c := container(t, r, "flink-hub")
	var args []string
	for _, a := range c.Args {
		args = append(args, strings.ReplaceAll(a, "$(POD_NAME)", "flink-hub-0"))
	}
	return ports, args
}

// startHubAs builds the hub and runs it with args, authenticated with
// kubeconfig.
func startHubAs(t *testing.T, kubeconfig []byte, args []string) *framework.Process {
	t.Helper()
	kubeconfigPath := kubeconfigFile(t, kubeconfig)
	dir := t.TempDir()
	bin, err := framework.Build("./cmd/flink-hub")
	if err != nil {
		t.Fatal(err)
	}
	// As in a pod, the hub finds its credentials itself (there: in-cluster
	// config; here: $KUBECONFIG), with the same client defaults.
	t.Setenv("KUBECONFIG", kubeconfigPath)
	hub, err := framework.StartProcess(dir, "flink-hub-0", bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return hub
}

// stopHub stops the hub and, if the test failed, logs the end of the
// hub's log.
func stopHub(t *testing.T, hub *framework.Process) {
	t.Helper()
	if err := hub.Stop(time.Minute); err != nil {
		t.Errorf("hub: %v", err)
	}
	if t.Failed() {
		t.Logf("hub log (last 80 lines):\n%s", hub.LogTail(80))
	}
}

// checkFleetAPIReaderOnly checks that the fleet API at addr lists the
// member to a ServiceAccount of ns bound to the fleet reader Role, and
// refuses anonymous users and other ServiceAccounts. The hub reviews
// tokens and access with the chart's ClusterRole.
func checkFleetAPIReaderOnly(t *testing.T, ctx context.Context, ns, addr, memberName string) {
	t.Helper()
	reader, err := fleet.Hub.ServiceAccountToken(ctx, ns, "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "alice-reads-fleet"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "flink-hub-fleet-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "alice"}},
	}
	if err := fleet.Hub.Client.Create(ctx, binding); err != nil {
		t.Fatal(err)
	}
	other, err := fleet.Hub.ServiceAccountToken(ctx, ns, "bob", nil)
	if err != nil {
		t.Fatal(err)
	}
	var last error
	if err := framework.Eventually(ctx, 60*time.Second, func(ctx context.Context) (bool, error) {
		var list fleetapi.ClusterList
		last = framework.FleetGet(ctx, addr, reader, "/fleet/v1/clusters", &list)
		return last == nil && len(list.Items) == 1 && list.Items[0].Name == memberName, nil
	}); err != nil {
		t.Fatalf("the fleet reader never got the member: %v", last)
	}
	for token, want := range map[string]int{"": http.StatusUnauthorized, other: http.StatusForbidden} {
		var fe *framework.FleetError
		if err := framework.FleetGet(ctx, addr, token, "/fleet/v1/clusters", &fleetapi.ClusterList{}); !errors.As(err, &fe) || fe.Status != want {
			t.Errorf("got %v, want %d", err, want)
		}
	}
}

// checkWebhookRejectsWithRule checks that the hub's webhook rejects an
// invalid FlinkDeployment in the member's appNS, naming the rule.
func checkWebhookRejectsWithRule(t *testing.T, ctx context.Context, member *framework.ControlPlane, appNS string) {
	t.Helper()
	bad := framework.ValidFlinkDeployment(appNS, "bad")
	bad.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"kubernetes.namespace": "elsewhere"}`)}
	var last error
	if err := framework.Eventually(ctx, 60*time.Second, func(ctx context.Context) (bool, error) {
		last = member.Client.Create(ctx, bad.DeepCopy())
		if last == nil {
			_ = member.Client.Delete(ctx, bad.DeepCopy())
		}
		return last != nil && strings.Contains(last.Error(), "admission webhook"), nil
	}); err != nil {
		t.Fatalf("never rejected by the webhook; last: %v", last)
	}
	if !strings.Contains(last.Error(), "spec.flinkConfiguration[kubernetes.namespace]: Forbidden") {
		t.Errorf("rejection %q lacks the rule", last)
	}
}

// checkValidDeploymentReconciled creates a valid FlinkDeployment in the
// member's appNS and waits until the hub reconciled it.
func checkValidDeploymentReconciled(t *testing.T, ctx context.Context, member *framework.ControlPlane, appNS string) {
	t.Helper()
	fd := framework.ValidFlinkDeployment(appNS, "wordcount")
	if err := member.Client.Create(ctx, fd); err != nil {
		t.Fatalf("valid FlinkDeployment refused: %v", err)
	}
	if err := framework.Eventually(ctx, 60*time.Second, func(ctx context.Context) (bool, error) {
		var got flinkv1beta1.FlinkDeployment
		if err := member.Client.Get(ctx, client.ObjectKeyFromObject(fd), &got); err != nil {
			return false, err
		}
		var jm corev1.ServiceList
		if err := member.Client.List(ctx, &jm, client.InNamespace(appNS)); err != nil {
			return false, err
		}
		return got.Status.LifecycleState != "" && len(jm.Items) > 0, nil
	}); err != nil {
		t.Fatalf("FlinkDeployment not reconciled: %v", err)
	}
}

// checkIdentityRefused checks that the hub's identity (saConfig) is
// refused what the hub must not do, and can read the member Secret
// memberName in ns.
func checkIdentityRefused(t *testing.T, ctx context.Context, saConfig *rest.Config, ns, memberName string) {
	t.Helper()
	if err := fleet.Hub.CreateNamespace(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	other := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "database", Namespace: "other"}, StringData: map[string]string{"password": "x"}}
	if err := fleet.Hub.Client.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	sa := kubernetes.NewForConfigOrDie(saConfig)
	checks := map[string]error{}
	_, checks["get a Secret in another namespace"] = sa.CoreV1().Secrets("other").Get(ctx, "database", metav1.GetOptions{})
	_, checks["list Secrets of all namespaces"] = sa.CoreV1().Secrets("").List(ctx, metav1.ListOptions{})
	checks["delete a member Secret"] = sa.CoreV1().Secrets(ns).Delete(ctx, memberName, metav1.DeleteOptions{})
	_, checks["list Leases in another namespace"] = sa.CoordinationV1().Leases("other").List(ctx, metav1.ListOptions{})
	_, checks["list Pods"] = sa.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	for what, err := range checks {
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s: got %v, want Forbidden", what, err)
		}
	}
	// And what it needs works with the same identity.
	if _, err := sa.CoreV1().Secrets(ns).Get(ctx, memberName, metav1.GetOptions{}); err != nil {
		t.Errorf("read a member Secret: %v", err)
	}
}
