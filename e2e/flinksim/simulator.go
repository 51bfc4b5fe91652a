package flinksim

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
)

// StartupFailureKey is a Flink configuration key the simulator reads as a
// fault: a cluster whose configuration sets it never starts its JobManager,
// like a real cluster with a configuration Flink rejects.
const StartupFailureKey = "flinksim.startup-failure"

// BoundedJobKey is a Flink configuration key the simulator reads as the
// application's job being bounded: it finishes on its own this long (a Go
// duration) after it starts running, as a batch job does.
const BoundedJobKey = "flinksim.job.finish-after"

// Options configure a Simulator. Zero durations take the JobManager
// defaults; a zero CheckpointInterval uses the cluster's
// execution.checkpointing.interval.
type Options struct {
	// CheckpointInterval overrides every cluster's checkpoint interval.
	CheckpointInterval time.Duration
	// StartDelay, SavepointDuration and CancelDelay set the simulated
	// JobManagers' timing.
	StartDelay, SavepointDuration, CancelDelay time.Duration
	// RESTLatency delays every REST answer of every JobManager, as the
	// per-JobManager Faults.Latency does (which replaces it when set).
	RESTLatency time.Duration
	// Network gives pods their IPs and, where pods are reachable, serves
	// JobManagers on them. Default: IPs from 10.244.0.0/16, nothing served
	// on them (use Handler with the url transport).
	Network PodNetwork
	// Log receives the simulator's own messages; default discards them.
	Log logr.Logger
	// Namespace, if set, restricts the simulator to one namespace of each
	// member, so that several simulators can share a control plane.
	Namespace string
	// Workers is how many Flink clusters of one member are brought in line
	// at once, as many kubelets and controllers would; default 1.
	Workers int
	// Storage is the file system every JobManager writes checkpoints and
	// savepoints to and restores from; default a new, empty one. A job
	// told to restore from a path it does not hold fails to start.
	Storage *jobmanager.Storage
}

// PodNetwork gives simulated pods their IPs and serves JobManagers on them.
type PodNetwork interface {
	// PodIP returns the IP of a pod that is about to run.
	PodIP(cluster string, pod *corev1.Pod) string
	// Listen returns a listener for a JobManager's REST port on its pod
	// IP, or nil when the IP is not reachable from this process.
	Listen(ip string, port int) (net.Listener, error)
}

// Simulator plays kubelet and Flink for member clusters: it runs the pods
// of the hub's Flink Deployments and one simulated JobManager per Flink
// cluster. Safe for concurrent use.
type Simulator struct {
	opts Options

	mu      sync.Mutex
	members map[string]*member
	ctx     context.Context
	cancel  context.CancelFunc
}

// New returns a Simulator with no members.
func New(opts Options) *Simulator {
	if opts.Network == nil {
		opts.Network = &sequentialNetwork{}
	}
	if opts.Log.GetSink() == nil {
		opts.Log = logr.Discard()
	}
	if opts.Storage == nil {
		opts.Storage = jobmanager.NewStorage()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Simulator{opts: opts, members: map[string]*member{}, ctx: ctx, cancel: cancel}
}

// AddMember starts simulating a member cluster: a kubelet loop over its
// Flink Deployments and pods, with the given admin credentials.
func (s *Simulator) AddMember(name string, cfg *rest.Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.members[name]; ok {
		return fmt.Errorf("member %q already simulated", name)
	}
	m, err := newMember(s.ctx, name, cfg, s.opts)
	if err != nil {
		return err
	}
	s.members[name] = m
	return nil
}

// RemoveMember stops simulating a member: its kubelet loop and JobManagers.
func (s *Simulator) RemoveMember(name string) {
	s.mu.Lock()
	m := s.members[name]
	delete(s.members, name)
	s.mu.Unlock()
	if m != nil {
		m.stop()
	}
}

// Stop stops every member's loop and JobManager. Call it before stopping
// the members' control planes.
func (s *Simulator) Stop() {
	s.mu.Lock()
	ms := s.members
	s.members = map[string]*member{}
	s.mu.Unlock()
	for _, m := range ms {
		m.stop()
	}
	s.cancel()
}

func (s *Simulator) member(cluster string) *member {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.members[cluster]
}

// JobManager returns the running simulated JobManager of a Flink cluster,
// or nil when its JobManager pod is not running.
func (s *Simulator) JobManager(cluster, namespace, name string) *jobmanager.JobManager {
	if m := s.member(cluster); m != nil {
		return m.jobManager(namespace, name)
	}
	return nil
}

// Storage is the file system the simulated JobManagers write to and
// restore from: a test writes a savepoint there that no simulated job
// took (one restored from outside).
func (s *Simulator) Storage() *jobmanager.Storage { return s.opts.Storage }

// TaskManagerPodError is why a native cluster's JobManager last could not
// create its TaskManager pods (a pod template Flink cannot load, a pod the
// apiserver refuses), "" when it could or for an unknown cluster.
func (s *Simulator) TaskManagerPodError(cluster, namespace, name string) string {
	m := s.member(cluster)
	if m == nil {
		return ""
	}
	if c := m.cluster(types.NamespacedName{Namespace: namespace, Name: name}); c != nil {
		msg, _ := c.tmErr.Load().(string)
		return msg
	}
	return ""
}

// Crash kills a Flink cluster's JobManager: its process and pods are gone.
// As with a real Deployment, a new JobManager pod then starts and restores
// from HA metadata if there is any.
func (s *Simulator) Crash(ctx context.Context, cluster, namespace, name string) error {
	m := s.member(cluster)
	if m == nil {
		return errNotSimulated(cluster)
	}
	return m.crash(ctx, namespace, name)
}

func errNotSimulated(cluster string) error { return fmt.Errorf("member %q is not simulated", cluster) }

// Handler serves every simulated JobManager under
// /<cluster>/<namespace>/<name>/, for the url transport with the template
// "<base>/{{.Cluster}}/{{.Namespace}}/{{.Name}}/". A cluster whose
// JobManager is not running answers 503 with an HTML page, like an ingress.
// Under AdminPrefix it serves the simulator's own API.
func (s *Simulator) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, AdminPrefix) {
			s.serveAdmin(w, r)
			return
		}
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 4)
		if len(parts) < 3 {
			http.Error(w, "want /<cluster>/<namespace>/<name>/...", http.StatusNotFound)
			return
		}
		var c *flinkCluster
		if m := s.member(parts[0]); m != nil {
			c = m.cluster(types.NamespacedName{Namespace: parts[1], Name: parts[2]})
		}
		if c == nil {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("<html><head><title>503 Service Temporarily Unavailable</title></head><body>no JobManager</body></html>"))
			return
		}
		prefix := "/" + strings.Join(parts[:3], "/")
		http.StripPrefix(prefix, c.handler).ServeHTTP(w, r)
	})
}

// sequentialNetwork hands out 10.244.x.y addresses and serves nothing.
type sequentialNetwork struct {
	mu   sync.Mutex
	next uint32
}

func (n *sequentialNetwork) PodIP(string, *corev1.Pod) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.next++
	return fmt.Sprintf("10.244.%d.%d", (n.next>>8)&0xff, n.next&0xff)
}

func (n *sequentialNetwork) Listen(string, int) (net.Listener, error) { return nil, nil }
