package flinksim

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
)

// member simulates one member cluster: a controller-runtime manager whose
// reconciler plays kubelet (and the Deployment, endpoints and garbage
// collection controllers, which test control planes lack) for every Flink
// cluster, keyed by namespace and the "app" label.
type member struct {
	name   string
	opts   Options
	client client.Client // uncached: reads are fresh
	// cache holds the Deployments, pods and Services of Flink clusters and
	// the Endpoints and EndpointSlices the simulator writes, as the
	// informers of kubelets and controllers would.
	cache  client.Reader
	wake   chan event.GenericEvent
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu         sync.Mutex
	written    map[string]string // object key -> what was last written, to skip rereads
	clusters   map[types.NamespacedName]*flinkCluster
	faults     map[types.NamespacedName]ClusterFaults
	savepoints map[types.NamespacedName][]jobmanager.Checkpoint
	// mounts are the pods whose volumes do not mount, by UID.
	mounts map[types.UID]*mountState
}

// flinkCluster is a running simulated JobManager and how it is served.
type flinkCluster struct {
	jm      *jobmanager.JobManager
	handler http.Handler
	podUID  types.UID
	server  *http.Server
	config  clusterConfig
	// tmTemplate is a native cluster's TaskManager pod template, or
	// tmTemplateErr why Flink cannot load it; tmErr holds the last
	// TaskManager pod error, a string, "" for none.
	tmTemplate    *corev1.Pod
	tmTemplateErr error
	tmErr         atomic.Value
}

func (c *flinkCluster) stop() {
	c.jm.Stop()
	if c.server != nil {
		_ = c.server.Close()
	}
}

func newMember(parent context.Context, name string, cfg *rest.Config, opts Options) (*member, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = rest.NoWarnings{} // v1 Endpoints is deprecated, and written on purpose
	// The simulator stands in for many kubelets and controllers: no client
	// side rate limit (client-go's default is 5 requests per second).
	cfg.QPS, cfg.Burst, cfg.RateLimiter = -1, 0, nil
	flink, err := labels.NewRequirement(labelComponent, selection.In, []string{componentJobManager, componentTaskManager})
	if err != nil {
		return nil, err
	}
	onlyFlink := cache.ByObject{Label: labels.NewSelector().Add(*flink)}
	ours, err := labels.NewRequirement(discoveryv1.LabelManagedBy, selection.Equals, []string{managedBy})
	if err != nil {
		return nil, err
	}
	var namespaces map[string]cache.Config
	if opts.Namespace != "" {
		namespaces = map[string]cache.Config{opts.Namespace: {}}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Logger:                 opts.Log.WithValues("member", name),
		Cache: cache.Options{DefaultNamespaces: namespaces,
			ByObject: map[client.Object]cache.ByObject{&appsv1.Deployment{}: onlyFlink, &corev1.Pod{}: onlyFlink,
				&discoveryv1.EndpointSlice{}: {Label: labels.NewSelector().Add(*ours)}}},
		Controller: ctrlConfig(opts.Workers),
	})
	if err != nil {
		return nil, fmt.Errorf("simulating member %q: %w", name, err)
	}
	if err := mgr.GetFieldIndexer().IndexField(parent, &corev1.Service{}, serviceAppIndex, serviceApp); err != nil {
		return nil, err
	}
	for _, o := range []client.Object{&appsv1.Deployment{}, &corev1.Pod{}} {
		if err := mgr.GetFieldIndexer().IndexField(parent, o, appIndex, labelAppValue); err != nil {
			return nil, err
		}
	}
	direct, err := client.New(cfg, client.Options{Scheme: mgr.GetScheme()})
	if err != nil {
		return nil, err
	}
	m := &member{name: name, opts: opts, client: direct, cache: mgr.GetClient(), wake: make(chan event.GenericEvent, 64), done: make(chan struct{}),
		written: map[string]string{}, clusters: map[types.NamespacedName]*flinkCluster{}, faults: map[types.NamespacedName]ClusterFaults{},
		savepoints: map[types.NamespacedName][]jobmanager.Checkpoint{}, mounts: map[types.UID]*mountState{}}
	byApp := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		app := o.GetLabels()[labelApp]
		if svc, ok := o.(*corev1.Service); ok && app == "" {
			app = svc.Spec.Selector[labelApp]
		}
		if app == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: app}}}
	})
	err = builder.ControllerManagedBy(mgr).Named("flinksim-kubelet").
		WatchesRawSource(source.Kind(mgr.GetCache(), client.Object(&appsv1.Deployment{}), byApp)).
		WatchesRawSource(source.Kind(mgr.GetCache(), client.Object(&corev1.Pod{}), byApp)).
		WatchesRawSource(source.Kind(mgr.GetCache(), client.Object(&corev1.Service{}), byApp)).
		WatchesRawSource(source.Channel(m.wake, &handler.EnqueueRequestForObject{})).
		Complete(reconcile.Func(m.reconcile))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(parent)
	m.ctx, m.cancel = ctx, cancel
	go func() {
		defer close(m.done)
		if err := mgr.Start(ctx); err != nil {
			opts.Log.Error(err, "member simulation stopped", "member", name)
		}
	}()
	return m, nil
}

// ctrlConfig lets every member's manager run a controller of the same
// name, with workers reconciles at once.
func ctrlConfig(workers int) config.Controller {
	return config.Controller{SkipNameValidation: ptr.To(true), MaxConcurrentReconciles: max(workers, 1)}
}

// enqueue asks for a reconcile of a Flink cluster.
func (m *member) enqueue(key types.NamespacedName) {
	obj := &corev1.ConfigMap{}
	obj.Namespace, obj.Name = key.Namespace, key.Name
	ev := event.GenericEvent{Object: obj}
	select {
	case m.wake <- ev:
	default: // the queue is busy: hand the event over without blocking the caller
		go func() {
			select {
			case m.wake <- ev:
			case <-m.ctx.Done():
			}
		}()
	}
}

func (m *member) stop() {
	m.cancel()
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, c := range m.clusters {
		c.stop()
		delete(m.clusters, k)
	}
}

func (m *member) jobManager(namespace, name string) *jobmanager.JobManager {
	if c := m.cluster(types.NamespacedName{Namespace: namespace, Name: name}); c != nil {
		return c.jm
	}
	return nil
}

func (m *member) cluster(key types.NamespacedName) *flinkCluster {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.clusters[key]
}

// stopCluster stops and forgets a cluster's JobManager if it has one and
// gone says so.
func (m *member) stopCluster(key types.NamespacedName, gone func(*flinkCluster) bool) {
	m.mu.Lock()
	c := m.clusters[key]
	if c == nil || !gone(c) {
		m.mu.Unlock()
		return
	}
	delete(m.clusters, key)
	m.mu.Unlock()
	c.stop()
}

// crash stops a cluster's JobManager and deletes its pods.
func (m *member) crash(ctx context.Context, namespace, name string) error {
	key := types.NamespacedName{Namespace: namespace, Name: name}
	m.stopCluster(key, func(*flinkCluster) bool { return true })
	err := m.client.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(namespace),
		client.MatchingLabels{labelApp: name, labelComponent: componentJobManager}, client.GracePeriodSeconds(0))
	m.enqueue(key)
	return err
}
