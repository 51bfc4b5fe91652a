package clusters_test

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/observability"
)

// fleet is one hub and three members shared by the package's tests; each
// test runs its own hub manager in its own hub namespace.
var fleet *framework.Fleet

// logs collects everything the hub and client-go log, so tests can check
// that no secret material reaches the logs.
var logs lockedBuffer

type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) write(prefix, args string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(prefix + " " + args + "\n")
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestMain(m *testing.M) {
	logger := observability.WithoutQueueItemDumps(funcr.New(logs.write, funcr.Options{Verbosity: 10}))
	ctrllog.SetLogger(logger)
	klog.SetLogger(logger)
	// The hubs of these tests talk to members as `cluster add`'s identity;
	// the members must have refused it nothing.
	opts := framework.FleetOptions{Members: 3, HubCRDDirs: []string{framework.CRDDir()}}
	os.Exit(framework.RunWithFleet(m, opts, func(f *framework.Fleet) { fleet = f }, true))
}

// testOptions are fast settings for tests.
func testOptions(namespace string) clusters.Options {
	o := clusters.DefaultOptions()
	o.Namespace = namespace
	o.ProbeInterval = 200 * time.Millisecond
	// Six probes per report, as the defaults have (10 s and 1 min).
	o.StatusReportInterval = 1200 * time.Millisecond
	o.ProbeTimeout = 2 * time.Second
	o.Debounce = 2 * time.Second
	o.CRDRetryInterval = 500 * time.Millisecond
	o.FleetAddress = "127.0.0.1:0"
	o.MemberQPS, o.MemberBurst = 123, 456
	// Every test registers the same members in a hub namespace of its
	// own; a stopped hub's claims lapse before the next test needs them.
	o.ClaimDuration = 3 * time.Second
	// The member caches of the hub binary (cmd/flink-hub).
	memberCache := flinkdeployment.MemberCacheOptions()
	o.MemberCacheByObject, o.MemberCacheTransform = memberCache.ByObject, memberCache.DefaultTransform
	return o
}

// startHub creates the hub namespace, starts a hub in it and stops the hub
// when the test ends (before the control planes stop).
func startHub(t *testing.T, opts clusters.Options) *clusters.Hub {
	t.Helper()
	if err := fleet.Hub.CreateNamespace(context.Background(), opts.Namespace); err != nil {
		t.Fatal(err)
	}
	return startHubAs(t, fleet.Hub.Config, opts)
}

// startHubAs starts a hub with the given hub identity in an existing
// namespace and stops it when the test ends.
func startHubAs(t *testing.T, cfg *rest.Config, opts clusters.Options) *clusters.Hub {
	t.Helper()
	hub, _ := launchHub(t, cfg, opts)
	return hub
}

// launchHub starts a hub in an existing namespace and returns it with a
// function that stops it (at the latest when the test ends). setup, if
// any, adds to the hub before it starts.
func launchHub(t *testing.T, cfg *rest.Config, opts clusters.Options, setup ...func(*clusters.Hub) error) (*clusters.Hub, func()) {
	t.Helper()
	ctx := context.Background()
	skip := true
	hub, err := clusters.New(cfg, opts, manager.Options{
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             ctrlconfig.Controller{SkipNameValidation: &skip},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		if err := f(hub); err != nil {
			t.Fatal(err)
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- hub.Manager.Start(runCtx) }()
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub manager: %v\n%s", err, stuckRunnables())
		}
	})
	t.Cleanup(stop)
	return hub, stop
}

// stuckRunnables describes a hub that did not stop in time: the stacks of
// the hub's goroutines (those still running did not stop) and the last
// lines the hub logged.
func stuckRunnables() string {
	var all strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&all, 1)
	var out strings.Builder
	out.WriteString("goroutines of the hub and its libraries:\n")
	for _, stack := range strings.Split(all.String(), "\n\n") {
		if strings.Contains(stack, "flink-hub/internal") || strings.Contains(stack, "controller-runtime") || strings.Contains(stack, "multicluster-runtime") {
			out.WriteString(stack + "\n\n")
		}
	}
	out.WriteString("last log lines:\n")
	lines := strings.Split(logs.String(), "\n")
	for _, l := range lines[max(0, len(lines)-40):] {
		out.WriteString(l[:min(len(l), 400)] + "\n")
	}
	return out.String()
}

// hubKubeconfig is the kubeconfig `cluster add` gives the hub for member:
// the identity every test hub talks to members with.
func hubKubeconfig(t *testing.T, member *framework.ControlPlane) []byte {
	t.Helper()
	kc, err := member.HubKubeconfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

// memberSecret is a registration Secret for kubeconfig.
func memberSecret(namespace, name string, kubeconfig []byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{memberconfig.SecretLabel: "true"}},
		Data:       map[string][]byte{memberconfig.SecretKey: kubeconfig},
	}
}

// withServer returns kubeconfig with its current cluster's server replaced.
func withServer(t *testing.T, kubeconfig []byte, server string) []byte {
	t.Helper()
	return withCluster(t, kubeconfig, func(c *clientcmdapi.Cluster) { c.Server = server })
}

// withCluster returns kubeconfig with its current cluster changed by edit.
func withCluster(t *testing.T, kubeconfig []byte, edit func(*clientcmdapi.Cluster)) []byte {
	t.Helper()
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	edit(cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster])
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// eventually polls cond every 100 ms until it returns nil or the timeout
// passes, then fails with cond's last error.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	framework.AwaitWithin(t, timeout, what, cond)
}

// readyCondition returns the MemberCluster's Ready condition.
func readyCondition(ctx context.Context, namespace, name string) (*metav1.Condition, *hubv1alpha1.MemberCluster, error) {
	mc := &hubv1alpha1.MemberCluster{}
	if err := fleet.Hub.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, mc); err != nil {
		return nil, nil, err
	}
	c := meta.FindStatusCondition(mc.Status.Conditions, hubv1alpha1.ConditionReady)
	if c == nil {
		return nil, mc, fmt.Errorf("MemberCluster %s has no Ready condition yet", name)
	}
	return c, mc, nil
}

// waitReady waits for the MemberCluster's Ready condition to have status
// and reason, and returns the MemberCluster.
func waitReady(t *testing.T, namespace, name string, status metav1.ConditionStatus, reason string) *hubv1alpha1.MemberCluster {
	t.Helper()
	mc, _ := waitCondition(t, namespace, name, hubv1alpha1.ConditionReady, status, reason)
	return mc
}

// waitCondition waits for the MemberCluster's condition of type condType
// to have status and reason (any reason when empty), and returns the
// MemberCluster and the condition.
func waitCondition(t *testing.T, namespace, name, condType string, status metav1.ConditionStatus, reason string) (*hubv1alpha1.MemberCluster, *metav1.Condition) {
	t.Helper()
	var mc *hubv1alpha1.MemberCluster
	var c *metav1.Condition
	eventually(t, 30*time.Second, fmt.Sprintf("MemberCluster %s/%s %s=%s/%s", namespace, name, condType, status, reason), func() error {
		_, got, err := readyCondition(context.Background(), namespace, name)
		if err != nil {
			return err
		}
		cond := meta.FindStatusCondition(got.Status.Conditions, condType)
		if cond == nil || cond.Status != status || (reason != "" && cond.Reason != reason) {
			return fmt.Errorf("%s: %+v", condType, cond)
		}
		mc, c = got, cond
		return nil
	})
	return mc, c
}

// createFlinkDeployment creates a minimal FlinkDeployment in a member.
func createFlinkDeployment(t *testing.T, member *framework.ControlPlane, namespace, name string) {
	t.Helper()
	if err := tryCreateFlinkDeployment(member, namespace, name); err != nil {
		t.Fatal(err)
	}
}

// tryCreateFlinkDeployment creates a namespace (if needed) and a minimal
// FlinkDeployment in it.
func tryCreateFlinkDeployment(member *framework.ControlPlane, namespace, name string) error {
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if err := member.Client.Create(ctx, ns); client.IgnoreAlreadyExists(err) != nil {
		return err
	}
	fd := &flinkv1beta1.FlinkDeployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec:       flinkv1beta1.FlinkDeploymentSpec{Image: "flink:2.2", FlinkVersion: "v2_2"},
	}
	return member.Client.Create(ctx, fd)
}
