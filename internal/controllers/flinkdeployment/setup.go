package flinkdeployment

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
	"k8s.io/client-go/util/workqueue"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/workershare"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/observability"
	"github.com/flink-hub/flink-hub/internal/sharding/mcgate"
)

// SetupOptions wire the controller into a manager.
type SetupOptions struct {
	// Gate admits owned keys, at enqueue and at reconcile start.
	Gate Gate
	// Replica is this replica's identity, recorded on reconcile spans.
	Replica string
	// ShardOf maps a key to its shard, recorded on reconcile spans.
	ShardOf func(key string) int
	// MaxConcurrentReconciles bounds parallel reconciles.
	MaxConcurrentReconciles int
	// MemberWorkerShare is the share of MaxConcurrentReconciles one member
	// may hold at once (rounded up, at least one worker); a request of a
	// member at its share waits until one of that member's reconciles
	// ends. 1 lets one member hold every worker; DefaultMemberWorkerShare
	// when zero.
	MemberWorkerShare float64
	// Sources are extra request sources, such as the sharding requeuer
	// that enqueues every key of a newly acquired shard.
	Sources []source.TypedSource[mcreconcile.Request]
	// Audit, if set, is called at the start (begin true) and at the end of
	// every reconcile the gate admitted, with the key; for benchmarks that
	// check no two replicas ever reconcile one key at once.
	Audit func(key string, begin bool)
}

// BindFlags registers the controller's worker flags on fs:
// --max-concurrent-reconciles and --member-worker-share.
func (o *SetupOptions) BindFlags(fs *flag.FlagSet) {
	fs.IntVar(&o.MaxConcurrentReconciles, "max-concurrent-reconciles", DefaultMaxConcurrentReconciles, "FlinkDeployment reconciles run at once by this replica")
	fs.Float64Var(&o.MemberWorkerShare, "member-worker-share", DefaultMemberWorkerShare, "share of --max-concurrent-reconciles one member may hold at once (rounded up, at least one); 1 lets one member hold them all")
}

// Validate checks the worker flags.
func (o *SetupOptions) Validate() error {
	var problems []error
	if o.MaxConcurrentReconciles < 1 {
		problems = append(problems, errors.New("--max-concurrent-reconciles must be at least 1"))
	}
	if err := workershare.Validate(o.MemberWorkerShare); err != nil {
		problems = append(problems, fmt.Errorf("--member-worker-share: %w", err))
	}
	return errors.Join(problems...)
}

// DefaultMaxConcurrentReconciles is the default of
// --max-concurrent-reconciles.
const DefaultMaxConcurrentReconciles = 8

// WatchedMemberKinds are the kinds SetupWithManager watches in members.
func WatchedMemberKinds() []client.Object {
	return []client.Object{&v1beta1.FlinkDeployment{}, &appsv1.Deployment{}}
}

// SetupWithManager registers the FlinkDeployment controller: events of
// FlinkDeployments and of the JobManager and TaskManager Deployments the hub
// created enqueue the FlinkDeployment when this replica owns it; requests
// pass the gate, then the member's worker share, then the tracing wrapper,
// then Reconcile.
func (r *Reconciler) SetupWithManager(mgr mcmanager.Manager, o SetupOptions) error {
	if o.MaxConcurrentReconciles < 1 {
		o.MaxConcurrentReconciles = 4
	}
	b := mcbuilder.ControllerManagedBy(mgr).
		Named("flinkdeployment").
		// Status writes (ours) change no generation and trigger nothing;
		// spec, deletion, label and annotation changes do, and another
		// writer of the status appearing or going (foreign.go).
		Watches(&v1beta1.FlinkDeployment{}, mcgate.Enqueue(o.Gate), mcbuilder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, predicate.LabelChangedPredicate{},
			foreignWritersChanged(r.Options.FieldOwner)))).
		// A JobManager or TaskManager Deployment matters when it goes, its
		// availability changes or its pods cannot be made; not on every
		// status write, nor on the hub's own creation.
		Watches(&appsv1.Deployment{}, mcgate.EnqueueOwned(o.Gate, ownerOfMemberObject), mcbuilder.WithPredicates(deploymentNews)).
		WithOptions(controller.TypedOptions[mcreconcile.Request]{
			MaxConcurrentReconciles: o.MaxConcurrentReconciles,
			RateLimiter:             r.Options.RetryLimiter(),
		})
	// Every line the controller logs for a request ("Reconciler error"
	// included) names the FlinkDeployment.
	base := mgr.GetLogger().WithValues("controller", "flinkdeployment")
	b = b.WithLogConstructor(func(req *mcreconcile.Request) logr.Logger {
		if req == nil {
			return base
		}
		return base.WithValues("cluster", req.ClusterName, "namespace", req.Namespace, "name", req.Name)
	})
	var inner reconcile.TypedReconciler[mcreconcile.Request] = observability.TraceReconciler("FlinkDeployment", r, observability.WithReplica(o.Replica), observability.WithShardOf(o.ShardOf))
	if o.Audit != nil {
		inner = audited(o.Audit, inner)
	}
	outer, wake, err := SharedThenGated(o.Gate, requestKey, o.MaxConcurrentReconciles, o.MemberWorkerShare, inner, countWaiting)
	if err != nil {
		return err
	}
	for _, src := range append(o.Sources, wake) {
		b = b.WatchesRawSource(src)
	}
	return b.Complete(outer)
}

// RetryLimiter is controller-runtime's default rate limiter (per-item
// exponential backoff from 5 ms, overall 10 qps with a burst of 100) with
// the per-item backoff capped at --max-retry-backoff.
func (o Options) RetryLimiter() workqueue.TypedRateLimiter[mcreconcile.Request] {
	return retryLimiter(o.maxRetryBackoff())
}

// retryLimiter is RetryLimiter with the backoff capped at max.
func retryLimiter(max time.Duration) workqueue.TypedRateLimiter[mcreconcile.Request] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[mcreconcile.Request](5*time.Millisecond, max),
		&workqueue.TypedBucketRateLimiter[mcreconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(10), 100)},
	)
}

// audited calls audit around every reconcile of inner.
func audited(audit func(key string, begin bool), inner reconcile.TypedReconciler[mcreconcile.Request]) reconcile.TypedReconciler[mcreconcile.Request] {
	return reconcile.TypedFunc[mcreconcile.Request](func(ctx context.Context, req mcreconcile.Request) (reconcile.Result, error) {
		key := requestKey(req)
		audit(key, true)
		defer audit(key, false)
		return inner.Reconcile(ctx, req)
	})
}

// deploymentNews passes the Deployment events that can change what a
// reconcile does: a deletion, and an update that changes the generation,
// the deletion, whether the Deployment is available, or a ReplicaFailure
// condition (observe reads only these). A creation passes only when it
// already shows one of them (a re-list after a watch gap): the hub
// creates these Deployments itself, and the reconcile that applied one
// already said when to look next (a cache that has not caught up reads
// live, takeOverCluster), so waking it for the creation or for the
// Deployment controller's first status writes is a reconcile that finds
// nothing to do: with short queues (three replicas in the bench's
// many-members run), about one deploy in ten took such a reconcile.
var deploymentNews = predicate.Funcs{
	CreateFunc: func(e event.CreateEvent) bool {
		dep, ok := e.Object.(*appsv1.Deployment)
		return !ok || available(dep) || replicaFailure(dep) != nil || !dep.DeletionTimestamp.IsZero()
	},
	UpdateFunc: func(e event.UpdateEvent) bool {
		oldDep, ok1 := e.ObjectOld.(*appsv1.Deployment)
		newDep, ok2 := e.ObjectNew.(*appsv1.Deployment)
		if !ok1 || !ok2 {
			return true
		}
		return oldDep.Generation != newDep.Generation ||
			!oldDep.DeletionTimestamp.Equal(newDep.DeletionTimestamp) ||
			available(oldDep) != available(newDep) ||
			!sameFailure(replicaFailure(oldDep), replicaFailure(newDep))
	},
}

// ownerOfMemberObject maps an object the hub created to its FlinkDeployment
// through the hub's labels.
func ownerOfMemberObject(obj client.Object) (types.NamespacedName, bool) {
	l := obj.GetLabels()
	if l[deployer.LabelManagedBy] != deployer.ManagedByHub || l[deployer.LabelApp] == "" {
		return types.NamespacedName{}, false
	}
	return types.NamespacedName{Namespace: obj.GetNamespace(), Name: l[deployer.LabelApp]}, true
}
