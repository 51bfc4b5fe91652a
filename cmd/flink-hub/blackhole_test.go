package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/registration"
)

// TestBlackholedMemberDoesNotStarveOthers runs the hub with two reconcile
// workers and two members. The sick member's FlinkDeployments never get a
// running JobManager (no simulator plays its kubelet), so the hub reconciles
// them every progress check, and each reconcile reads the JobManager's pods
// from the member's apiserver. Then the sick member blackholes the hub's
// traffic, and FlinkDeployments created afterwards in the healthy member
// must still become RUNNING and STABLE in time: the sick member's hanging
// reconciles hold at most its share of the workers, and each of its
// requests ends at the member request timeout.
//
// The blackhole is a TCP proxy in front of the sick member's apiserver (the
// hub's kubeconfig points at it): once blackholed, it stops forwarding and
// discards whatever arrives on open connections, and accepts new ones and
// discards everything on them too, never answering. From the hub's side
// that is a member whose packets are dropped after the TCP handshake; a
// network namespace with a drop rule would also drop the handshake, which
// needs the member's apiserver inside the namespace, and envtest starts it
// in the host's.
func TestBlackholedMemberDoesNotStarveOthers(t *testing.T) {
	f := framework.StartFleetT(t, framework.FleetOptions{Members: 2, HubCRDDirs: []string{framework.CRDDir()}})
	healthy, sick := f.Members[0], f.Members[1]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const ns = "flink-hub"
	if err := f.Hub.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	simURL := startSimulator(t, healthy)
	target, err := url.Parse(sick.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	hole := newBlackhole(t, target.Host)
	// Two workers, a member may hold half of them (the default share).
	const workers, share = 2, 0.5
	sickLimit := int(math.Ceil(workers * share))
	metricsAddr := framework.FreeAddr(t)
	stopHub := startHubProcess(t, f, ns, simURL, metricsAddr, workers, share)
	registerMembers(t, ctx, f, ns, healthy, sick, "https://"+hole.addr)
	create := basicCreator(t, ctx)

	// Many more sick FlinkDeployments than workers, all deploying: without
	// a share, the queue always holds sick requests ahead of the healthy
	// member's, and each holds a worker until its request dies.
	var sickFDs []*v1beta1.FlinkDeployment
	for i := range 10 {
		sickFDs = append(sickFDs, create(sick, fmt.Sprintf("sick-%d", i)))
	}
	for _, fd := range sickFDs {
		// DEPLOYING, and ERROR once the readiness deadline passed.
		waitStatus(t, ctx, sick, fd, time.Minute, "deployed, JobManager not ready", func(fd *v1beta1.FlinkDeployment) bool {
			return fd.Status.JobManagerDeploymentStatus == v1beta1.JobManagerDeploying || fd.Status.JobManagerDeploymentStatus == v1beta1.JobManagerError
		})
	}

	hole.blackhole()
	// Once their readiness deadline passed, the sick FlinkDeployments'
	// reconciles write into the blackhole and hold workers: only then come
	// the healthy member's.
	if err := framework.Eventually(ctx, 2*time.Minute, func(ctx context.Context) (bool, error) {
		return hole.swallowed.Load() > 0 && activeWorkers(ctx, metricsAddr) >= sickLimit, nil
	}); err != nil {
		t.Fatalf("the sick member's reconciles never reached the blackhole: %v", err)
	}
	var healthyFDs []*v1beta1.FlinkDeployment
	for i := range 4 {
		healthyFDs = append(healthyFDs, create(healthy, fmt.Sprintf("healthy-%d", i)))
	}
	waitAllStable(t, ctx, healthy, healthyFDs)
	if hole.swallowed.Load() == 0 {
		t.Error("the hub sent nothing into the blackhole: the sick member's reconciles did not run")
	}
	stopHub()
	if err := f.CheckNoRefusals(); err != nil {
		t.Error(err)
	}
}

// startSimulator plays the kubelet and the JobManagers of member until the
// test ends and returns the URL of the simulated JobManagers' REST APIs.
func startSimulator(t *testing.T, member *framework.ControlPlane) string {
	t.Helper()
	sim := flinksim.New(flinksim.Options{StartDelay: 200 * time.Millisecond, CheckpointInterval: time.Second})
	t.Cleanup(sim.Stop)
	if err := sim.AddMember(member.Name, member.Config); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// startHubProcess runs the hub binary in namespace ns with the given
// reconcile workers and member worker share, serving its metrics on
// metricsAddr and calling the JobManagers at simURL. It returns a function
// that stops the hub (at the latest when the test ends), logging the end
// of the hub's log if the test failed.
func startHubProcess(t *testing.T, f *framework.Fleet, ns, simURL, metricsAddr string, workers int, share float64) (stop func()) {
	t.Helper()
	// The hub runs as its own process: controller names are unique per
	// process, and other tests of this package run the hub in theirs.
	bin, err := framework.Build("./cmd/flink-hub")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "hub.kubeconfig")
	if err := os.WriteFile(kubeconfig, f.Hub.Kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	hub, err := framework.StartProcess(dir, "hub", bin,
		"--kubeconfig", kubeconfig, "--namespace", ns, "--replica-id", "hub-0",
		"--metrics-bind-address="+metricsAddr, "--health-probe-bind-address=0", "--fleet-bind-address=",
		"--max-concurrent-reconciles="+strconv.Itoa(workers), "--member-worker-share="+strconv.FormatFloat(share, 'f', -1, 64),
		"--progress-check-interval=500ms", "--reconcile-interval=5s",
		// The sick member's JobManagers never start: their readiness
		// deadline makes the hub write their status after the blackhole.
		"--deployment-readiness-timeout=5s",
		// A member whose claim cannot be renewed for this long is
		// disengaged, which would spare the healthy member too: this test
		// is about the blackholed member while it is still engaged.
		"--member-claim-duration=10m",
		"--flink-rest-transport=url", "--flink-rest-url-template="+simURL+"/{{.Cluster}}/{{.Namespace}}/{{.Name}}/")
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stopHub := func() {
		if stopped {
			return
		}
		stopped = true
		if err := hub.Stop(30 * time.Second); err != nil {
			t.Errorf("hub: %v (log %s)", err, hub.LogPath)
		}
		if t.Failed() {
			t.Logf("hub log (last 60 lines):\n%s", hub.LogTail(60))
		}
	}
	t.Cleanup(stopHub) // before the proxy closes and the fleet stops
	return stopHub
}

// registerMembers registers both members with the identity `cluster add`
// gives the hub, the sick one's kubeconfig pointing at sickServer (the
// proxy), and creates their application namespace.
func registerMembers(t *testing.T, ctx context.Context, f *framework.Fleet, ns string, healthy, sick *framework.ControlPlane, sickServer string) {
	t.Helper()
	for _, m := range []struct {
		cp     *framework.ControlPlane
		server string
	}{{healthy, ""}, {sick, sickServer}} {
		kc, err := m.cp.HubKubeconfig(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.server != "" {
			kc = withServer(t, kc, m.server)
		}
		if err := f.Hub.Client.Create(ctx, registration.Secret(framework.RegistrationOptions(m.cp.Name, ns), kc)); err != nil {
			t.Fatal(err)
		}
		appNamespace(t, ctx, m.cp)
	}
}

// basicCreator returns a function that creates the basic example as
// apps/name in a member.
func basicCreator(t *testing.T, ctx context.Context) func(cp *framework.ControlPlane, name string) *v1beta1.FlinkDeployment {
	t.Helper()
	basic, err := examples.Named("basic/basic-example")
	if err != nil {
		t.Fatal(err)
	}
	return func(cp *framework.ControlPlane, name string) *v1beta1.FlinkDeployment {
		fd := basic.DeepCopy()
		fd.Namespace, fd.Name = "apps", name
		if err := cp.Client.Create(ctx, fd); err != nil {
			t.Fatalf("create %s in %s: %v", name, cp.Name, err)
		}
		return fd
	}
}

// waitAllStable waits, for all FlinkDeployments of cp at once, until they
// are READY, RUNNING and STABLE.
func waitAllStable(t *testing.T, ctx context.Context, cp *framework.ControlPlane, fds []*v1beta1.FlinkDeployment) {
	t.Helper()
	var wg sync.WaitGroup
	for _, fd := range fds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			waitStatus(t, ctx, cp, fd, time.Minute, "READY, RUNNING and STABLE while another member blackholes", stable)
		}()
	}
	wg.Wait()
}

// stable reports whether fd's JobManager is ready, its lifecycle STABLE and
// its job (if any) RUNNING.
func stable(fd *v1beta1.FlinkDeployment) bool {
	st := fd.Status
	return st.JobManagerDeploymentStatus == v1beta1.JobManagerReady && st.LifecycleState == v1beta1.LifecycleStable &&
		(fd.Spec.Job == nil || st.JobStatus.State == v1beta1.JobRunning)
}

// waitStatus polls fd in cp (as admin, not through any proxy) until cond
// holds, failing the test with the last status seen.
func waitStatus(t *testing.T, ctx context.Context, cp *framework.ControlPlane, fd *v1beta1.FlinkDeployment, timeout time.Duration, what string, cond func(*v1beta1.FlinkDeployment) bool) {
	t.Helper()
	var last v1beta1.FlinkDeployment
	err := framework.Eventually(ctx, timeout, func(ctx context.Context) (bool, error) {
		if err := cp.Client.Get(ctx, client.ObjectKeyFromObject(fd), &last); err != nil {
			return false, err
		}
		return cond(&last), nil
	})
	if err != nil {
		t.Errorf("%s %s/%s: %s: %v; last status %+v", cp.Name, fd.Namespace, fd.Name, what, err, last.Status)
	}
}

// appNamespace creates the namespace "apps" with the "flink" service
// account the examples run as.
func appNamespace(t *testing.T, ctx context.Context, cp *framework.ControlPlane) {
	t.Helper()
	if err := cp.CreateNamespace(ctx, "apps"); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "flink"}}
	if err := cp.Client.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// withServer returns kubeconfig with its current cluster's server replaced.
func withServer(t *testing.T, kubeconfig []byte, server string) []byte {
	t.Helper()
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster].Server = server
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// blackhole is a TCP proxy to target that, once blackholed, answers
// nothing: it discards what arrives on open and new connections and
// forwards nothing either way.
type blackhole struct {
	target string
	addr   string
	ln     net.Listener
	holed  atomic.Bool
	// swallowed counts the bytes discarded since the blackhole started.
	swallowed atomic.Int64

	mu    sync.Mutex
	conns []net.Conn
}

func newBlackhole(t *testing.T, target string) *blackhole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{target: target, addr: ln.Addr().String(), ln: ln, conns: []net.Conn{}}
	go b.serve()
	t.Cleanup(b.close)
	return b
}

// blackhole makes the proxy drop everything from now on.
func (b *blackhole) blackhole() { b.holed.Store(true) }

func (b *blackhole) serve() {
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		if !b.track(c) {
			return
		}
		if b.holed.Load() {
			go b.pipe(c, nil)
			continue
		}
		up, err := net.Dial("tcp", b.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		if !b.track(up) {
			return
		}
		go b.pipe(c, up)
		go b.pipe(up, c)
	}
}

// pipe copies from src to dst (nil: nowhere) until the blackhole starts,
// then discards.
func (b *blackhole) pipe(src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if dst == nil || b.holed.Load() {
				b.swallowed.Add(int64(n))
			} else if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF || dst == nil || b.holed.Load() {
				return
			}
			_ = dst.Close()
			return
		}
	}
}

func (b *blackhole) track(c net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conns == nil {
		_ = c.Close()
		return false
	}
	b.conns = append(b.conns, c)
	return true
}

// close stops listening and closes every connection.
func (b *blackhole) close() {
	_ = b.ln.Close()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		_ = c.Close()
	}
	b.conns = nil
}

// activeWorkers reads controller-runtime's count of busy FlinkDeployment
// workers from the hub's metrics endpoint; -1 when it cannot.
func activeWorkers(ctx context.Context, addr string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return -1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, `controller_runtime_active_workers{controller="flinkdeployment"}`) {
			n, err := strconv.ParseFloat(strings.TrimSpace(line[strings.LastIndex(line, " "):]), 64)
			if err != nil {
				return -1
			}
			return int(n)
		}
	}
	return -1
}
