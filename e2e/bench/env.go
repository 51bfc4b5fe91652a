package main

import (
	"context"
	"fmt"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
	"github.com/flink-hub/flink-hub/internal/observability/reconcileaudit"
	"github.com/flink-hub/flink-hub/internal/sharding"
)

const (
	hubNamespace = "flink-hub"
	fdNamespace  = "bench"
	// warmupNamespace holds the warm-up FlinkDeployments, outside the
	// tracker's view.
	warmupNamespace = "bench-warmup"
	// visibilityNamespace holds the FlinkDeployments whose changes the
	// fleet visibility scenario follows through the fleet API.
	visibilityNamespace = "bench-visibility"

	// simWorkers is how many Flink clusters per member the simulator
	// brings up at once: a member has many kubelets, not one.
	simWorkers = 8
)

// env is one fleet: a hub and member control planes, the simulator, and
// hub replicas as processes that append to one audit file.
type env struct {
	cfg      config
	name     string
	dir      string
	fleet    *framework.Fleet
	sim      *flinksim.Simulator
	srv      *httptest.Server
	members  []client.Client // bench clients with the hub's member QPS
	replicas []*replica
	audit    string
	// deaths are the kill times of SIGKILLed replicas, for the audit.
	deaths map[string]time.Time
	// latency is the simulated Flink REST latency.
	latency time.Duration
	// reconcileInterval is the replicas' --reconcile-interval.
	reconcileInterval time.Duration
	// spread is the replicas' --member-spread (0: none).
	spread int
	// profileReplicas takes a CPU profile of every replica over the
	// start of each convergence.
	profileReplicas bool
	// split, when set, runs the replicas on CPUs of their own.
	split *cpuSplit
}

// replica is one hub process and its debug endpoints.
type replica struct {
	id      string
	proc    *framework.Process
	metrics string // base URL of /metrics
	pprof   string // base URL of /debug/pprof
	fleet   string // host:port of the fleet API (HTTPS)
}

// startEnv starts a fleet of cfg.members members, simulated when simulate
// (kubelets and Flink react to the hub's objects); no replicas yet.
func startEnv(ctx context.Context, cfg config, name string, latency time.Duration, simulate bool) (*env, error) {
	e := &env{cfg: cfg, name: name, dir: filepath.Join(cfg.out, name), deaths: map[string]time.Time{}, latency: latency, reconcileInterval: cfg.reconcileInterval}
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		return nil, err
	}
	e.audit = filepath.Join(e.dir, "reconcile-audit.log")
	_ = os.Remove(e.audit)
	var err error
	if e.fleet, err = framework.StartFleet(framework.FleetOptions{Members: cfg.members, HubCRDDirs: []string{framework.CRDDir()}, RecordStatusPatches: true}); err != nil {
		return nil, err
	}
	e.sim = flinksim.New(flinksim.Options{StartDelay: 200 * time.Millisecond, CheckpointInterval: cfg.checkpointInterval, Workers: simWorkers,
		SavepointDuration: 300 * time.Millisecond, RESTLatency: latency})
	for _, m := range e.fleet.Members {
		if simulate {
			if err := e.sim.AddMember(m.Name, m.Config); err != nil {
				e.stop()
				return nil, err
			}
		}
		c, err := memberClient(m.Config, cfg.memberQPS, cfg.memberBurst)
		if err != nil {
			e.stop()
			return nil, err
		}
		e.members = append(e.members, c)
		for _, ns := range []string{fdNamespace, warmupNamespace, visibilityNamespace} {
			if err := m.CreateNamespace(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
				e.stop()
				return nil, err
			}
			sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "flink"}}
			if err := m.Client.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
				e.stop()
				return nil, err
			}
		}
	}
	e.srv = httptest.NewServer(e.sim.Handler())
	if err := e.fleet.RegisterMembers(ctx, hubNamespace); err != nil {
		e.stop()
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(e.dir, "hub.kubeconfig"), e.fleet.Hub.Kubeconfig, 0o600); err != nil {
		e.stop()
		return nil, err
	}
	return e, nil
}

// memberClient is a client with the given client-side rate limit, one
// bucket for all resource types as the hub's member clients have.
func memberClient(cfg *rest.Config, qps float64, burst int) (client.Client, error) {
	c := rest.CopyConfig(cfg)
	memberconfig.RateLimit(c, float32(qps), burst)
	return client.New(c, client.Options{Scheme: framework.Scheme})
}

// loopback is the loopback address of port.
func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// startReplica starts one hub process with the benchmark's flags.
func (e *env) startReplica(id string) (*replica, error) {
	ports, err := framework.FreePorts(3)
	if err != nil {
		return nil, err
	}
	maddr, paddr, faddr := loopback(ports[0]), loopback(ports[1]), loopback(ports[2])
	args := []string{
		"--kubeconfig", filepath.Join(e.dir, "hub.kubeconfig"), "--namespace", hubNamespace, "--replica-id", id,
		"--metrics-bind-address", maddr, "--pprof-bind-address", paddr, "--health-probe-bind-address", "0",
		"--fleet-bind-address", faddr, "--fleet-advertise-address", faddr,
		"--health-debounce", "0s", "--health-probe-interval", e.cfg.probeInterval.String(),
		"--lease-duration", e.cfg.leaseDuration.String(), "--renew-deadline", e.cfg.renewDeadline.String(), "--retry-period", e.cfg.retryPeriod.String(),
		"--progress-check-interval", e.cfg.progressInterval.String(), "--reconcile-interval", e.reconcileInterval.String(),
		"--max-concurrent-reconciles", strconv.Itoa(e.cfg.workers),
		"--member-qps", strconv.FormatFloat(e.cfg.memberQPS, 'f', -1, 64), "--member-burst", strconv.Itoa(e.cfg.memberBurst),
		"--flink-rest-transport", "url", "--flink-rest-url-template", e.srv.URL + "/{{.Cluster}}/{{.Namespace}}/{{.Name}}/",
		"--reconcile-audit-file", e.audit,
		"--member-spread", strconv.Itoa(e.spread)}
	bin, args := e.split.hubCommand(e.cfg.hubBin, args)
	p, err := framework.StartProcess(e.dir, id, bin, args...)
	if err != nil {
		return nil, err
	}
	r := &replica{id: id, proc: p, metrics: "http://" + maddr + "/metrics", pprof: "http://" + paddr + "/debug/pprof", fleet: faddr}
	e.replicas = append(e.replicas, r)
	return r, nil
}

// live are the replicas that have not exited.
func (e *env) live() []*replica {
	var out []*replica
	for _, r := range e.replicas {
		if done, _ := r.proc.Exited(); !done {
			out = append(out, r)
		}
	}
	return out
}

// holders maps every shard to the holder of its fence Lease ("" if none).
func (e *env) holders(ctx context.Context) (map[int]string, error) {
	leases, err := framework.ShardLeases(ctx, e.fleet.Hub.Client, hubNamespace)
	if err != nil {
		return nil, err
	}
	out := map[int]string{}
	for k, l := range leases {
		out[k] = shardlease.Holder(&l)
	}
	return out, nil
}

// waitShardsHeld waits until every shard is held by a live replica and
// every live replica holds some.
func (e *env) waitShardsHeld(ctx context.Context, timeout time.Duration) error {
	return framework.Eventually(ctx, timeout, func(ctx context.Context) (bool, error) {
		h, err := e.holders(ctx)
		if err != nil || len(h) < sharding.DefaultShards {
			return false, err
		}
		live, holding := map[string]bool{}, map[string]bool{}
		for _, r := range e.live() {
			live[r.id] = true
		}
		for _, id := range h {
			if !live[id] {
				return false, nil
			}
			holding[id] = true
		}
		return len(holding) == len(live), nil
	})
}

// metric reads one unlabelled gauge from a replica's metrics endpoint.
func (r *replica) metric(ctx context.Context, name string) (float64, error) {
	body, err := get(ctx, r.metrics)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("%s has no %s", r.metrics, name)
}

// liveHeapSamples is how many times liveHeap forces a GC and reads.
const liveHeapSamples = 3

// liveHeap forces a GC in the replica (through pprof) and reads
// go_memstats_heap_alloc_bytes: the bytes of heap objects that survived
// it. (heap_inuse would add the free slots of partly used spans, which
// depend on allocation history more than on what the hub keeps.) The
// replica keeps reconciling meanwhile, and what it allocates between the
// GC and the read only adds, so the least of a few samples is the closest
// to what it keeps.
func (r *replica) liveHeap(ctx context.Context) (float64, error) {
	least := math.Inf(1)
	for range liveHeapSamples {
		if _, err := get(ctx, r.pprof+"/heap?gc=1"); err != nil {
			return 0, err
		}
		v, err := r.metric(ctx, "go_memstats_heap_alloc_bytes")
		if err != nil {
			return 0, err
		}
		least = min(least, v)
	}
	return least, nil
}

// saveProfile writes a pprof profile of the replica to path.
func (r *replica) saveProfile(ctx context.Context, query, path string) error {
	body, err := get(ctx, r.pprof+"/"+query)
	if err != nil {
		return err
	}
	return os.WriteFile(path, body, 0o644)
}

// saveAPIServerProfile writes a CPU profile of the first member's
// kube-apiserver over secs seconds to path.
func (e *env) saveAPIServerProfile(ctx context.Context, secs int, path string) error {
	cs, err := kubernetes.NewForConfig(e.fleet.Members[0].Config)
	if err != nil {
		return err
	}
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", strconv.Itoa(secs)).DoRaw(ctx)
	if err != nil {
		return err
	}
	return os.WriteFile(path, body, 0o644)
}

// saveSelfProfile writes a CPU profile of this process over d (or until
// ctx ends) to path.
func saveSelfProfile(ctx context.Context, d time.Duration, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	pprof.StopCPUProfile()
	return f.Close()
}

// scraper reads the replicas' metrics and profiles uncompressed: a gzip
// response would leave a gzip writer (about 600 KB) pooled in the replica,
// live at the next forced GC and counted in its heap as if per
// FlinkDeployment.
var scraper = &http.Client{Transport: func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableCompression = true
	return t
}()}

// get returns the body of a GET of url, an error unless it is 200 OK.
func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := scraper.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return b, err
}

// intervals reads the audit file.
func (e *env) intervals() ([]reconcileaudit.Interval, error) {
	f, err := os.Open(e.audit)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return reconcileaudit.Parse(f, e.deaths)
}

// stop stops the replicas (SIGTERM), then the simulator and the fleet.
func (e *env) stop() {
	for _, r := range e.live() {
		if err := r.proc.Stop(30 * time.Second); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v (log %s)\n", e.name, err, r.proc.LogPath)
		}
	}
	if e.srv != nil {
		e.srv.Close()
	}
	if e.sim != nil {
		e.sim.Stop()
	}
	if e.fleet != nil {
		if err := e.fleet.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}

// memberNames are the members' cluster names, in order.
func (e *env) memberNames() []string {
	var out []string
	for _, m := range e.fleet.Members {
		out = append(out, m.Name)
	}
	return out
}

// exits describes the replicas that have exited, with their last log
// lines, for errors.
func (e *env) exits() string {
	var b strings.Builder
	for _, r := range e.replicas {
		if done, err := r.proc.Exited(); done {
			log, _ := os.ReadFile(r.proc.LogPath)
			lines := strings.Split(strings.TrimSpace(string(log)), "\n")
			fmt.Fprintf(&b, "; %s exited (%v): %s", r.id, err, strings.Join(lines[max(0, len(lines)-3):], " | "))
		}
	}
	return b.String()
}
