// Command replica is a test-only hub replica for the sharding end-to-end
// test: a multicluster manager on the kubeconfig provider, the sharded
// election, and a recording stand-in for the FlinkDeployment reconciler
// that goes through the Gate at enqueue and at reconcile start.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"
	"sigs.k8s.io/multicluster-runtime/providers/kubeconfig"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/sharding"
	"github.com/flink-hub/flink-hub/internal/sharding/mcgate"
	"github.com/flink-hub/flink-hub/internal/sharding/shardkey"
)

// Record is one line of the record file: a reconcile (Event "reconcile")
// or an acquisition (Event "acquire").
type Record struct {
	Event   string `json:"event"`
	Replica string `json:"replica"`
	Key     string `json:"key,omitempty"`
	Shard   int    `json:"shard"`
	// Start and End are Unix nanoseconds; End is 0 on the line written
	// when a reconcile starts.
	Start int64 `json:"start"`
	End   int64 `json:"end,omitempty"`
}

type recorder struct {
	mu sync.Mutex
	f  *os.File
}

func (r *recorder) write(rec Record) {
	b, _ := json.Marshal(rec)
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = r.f.Write(append(b, '\n'))
}

func main() {
	fs := flag.NewFlagSet("replica", flag.ExitOnError)
	var election sharding.Flags
	election.BindFlags(fs)
	kubeconfigPath := fs.String("kubeconfig", "", "hub kubeconfig")
	namespace := fs.String("namespace", "flink-hub-system", "hub namespace (Leases and member Secrets)")
	recordPath := fs.String("record", "", "file the reconciles are appended to")
	work := fs.Duration("work", 20*time.Millisecond, "time one reconcile takes")
	workers := fs.Int("workers", 4, "concurrent reconciles")
	requeueAfter := fs.Duration("requeue-after", 0, "requeue every key this long after its reconcile, as a controller polling Flink does (0: never)")
	_ = fs.Parse(os.Args[1:])
	ctrl.SetLogger(zap.New())
	if err := run(*kubeconfigPath, *namespace, election, *recordPath, *work, *requeueAfter, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "replica:", err)
		os.Exit(1)
	}
}

// run is one replica: it records every shard it acquires and every
// reconcile it runs in recordPath until SIGTERM or SIGINT ends its
// election.
func run(kubeconfigPath, ns string, election sharding.Flags, recordPath string, work, requeueAfter time.Duration, workers int) error {
	id := election.Identity
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfigPath)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 200, 400
	f, err := os.OpenFile(recordPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	rec := &recorder{f: f}

	scheme, err := newScheme()
	if err != nil {
		return err
	}
	cs, err := sharding.NewClient(cfg)
	if err != nil {
		return err
	}
	var requeuer *mcgate.Requeuer
	elector, err := sharding.New(cs, ns, id, append(election.Options(),
		sharding.WithKeyCount(func(shard int) int { return requeuer.KeyCount(shard) }),
		sharding.WithLogger(ctrl.Log.WithName("sharding")))...)
	if err != nil {
		return err
	}
	elector.OnAcquire(func(shard int) {
		rec.write(Record{Event: "acquire", Replica: id, Shard: shard, Start: time.Now().UnixNano()})
	})
	mgr, err := newManager(cfg, ns, scheme, elector)
	if err != nil {
		return err
	}
	requeuer = mcgate.NewRequeuer(elector, "", func() client.ObjectList { return &flinkv1beta1.FlinkDeploymentList{} })
	if err := mgr.Add(requeuer); err != nil {
		return err
	}
	if err := mcbuilder.ControllerManagedBy(mgr).
		Named("flinkdeployment-recorder").
		Watches(&flinkv1beta1.FlinkDeployment{}, mcgate.Enqueue(elector)).
		WatchesRawSource(requeuer.Source()).
		WithOptions(controller.TypedOptions[mcreconcile.Request]{MaxConcurrentReconciles: workers}).
		Complete(recordingReconciler(mgr, elector, rec, id, work, requeueAfter)); err != nil {
		return err
	}
	return runElection(elector, mgr)
}

// newScheme returns a scheme with the client-go types and FlinkDeployments.
func newScheme() (*runtime.Scheme, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, flinkv1beta1.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	return scheme, nil
}

// newManager returns a multicluster manager whose members are the
// kubeconfig Secrets in ns, ready only while the elector is.
func newManager(cfg *rest.Config, ns string, scheme *runtime.Scheme, elector *sharding.Elector) (mcmanager.Manager, error) {
	provider := kubeconfig.New(kubeconfig.Options{
		Namespace:             ns,
		KubeconfigSecretLabel: "flink-hub.io/member-cluster",
		KubeconfigSecretKey:   "kubeconfig",
		ClusterOptions:        []cluster.Option{func(o *cluster.Options) { o.Scheme = scheme }},
	})
	mgr, err := mcmanager.New(cfg, provider, manager.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("sharding", elector.ReadyzCheck); err != nil {
		return nil, err
	}
	if err := provider.SetupWithManager(context.Background(), mgr); err != nil {
		return nil, err
	}
	return mgr, nil
}

// recordingReconciler is the stand-in for the FlinkDeployment reconciler:
// through the elector's Gate, it reads the FlinkDeployment, works for
// work and records the reconcile's start and end.
func recordingReconciler(mgr mcmanager.Manager, elector *sharding.Elector, rec *recorder, id string, work, requeueAfter time.Duration) mcreconcile.Func {
	return mcreconcile.Func(func(ctx context.Context, req mcreconcile.Request) (_ ctrl.Result, err error) {
		key := shardkey.Key{Cluster: string(req.ClusterName), Namespace: req.Namespace, Name: req.Name}.String()
		rctx, done, ok := elector.Begin(ctx, key)
		if !ok {
			return ctrl.Result{}, nil
		}
		defer func() { done(err) }()
		r := Record{Event: "reconcile", Replica: id, Key: key, Shard: elector.ShardOf(key), Start: time.Now().UnixNano()}
		rec.write(r)
		cl, err := mgr.GetCluster(rctx, req.ClusterName)
		if err != nil {
			return ctrl.Result{}, err
		}
		fd := &flinkv1beta1.FlinkDeployment{}
		if err := cl.GetClient().Get(rctx, req.NamespacedName, fd); client.IgnoreNotFound(err) != nil {
			return ctrl.Result{}, err
		}
		// The work ignores cancellation, like a call that does not honour
		// its context: the worst case for a handoff, which must wait.
		<-time.After(work)
		r.End = time.Now().UnixNano()
		rec.write(r)
		return ctrl.Result{RequeueAfter: requeueAfter}, nil
	})
}

// runElection starts the manager and runs the election until SIGTERM or
// SIGINT. The election ends first (it drains in-flight reconciles and
// releases every fence), then the manager.
func runElection(elector *sharding.Elector, mgr mcmanager.Manager) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return elector.RunWith(ctx, mgr)
}
