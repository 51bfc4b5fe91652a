// Package memberkind wires a controller of a kind that is optional in
// members (FlinkSessionJob, FlinkStateSnapshot) the way the hub wires its
// controllers: sharded on the object's own key (a shardkey.Kind), requests
// through the gate, the member's worker share and the tracing wrapper, the
// FlinkDeployment controller's retry limiter, and the kind watched through
// optionalkind so that a member without it is still engaged. It also
// holds the start every such reconcile shares: its deadline, the member,
// and the object read (live on the first reconcile after a handoff).
package memberkind

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/optionalkind"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/deadline"
	"github.com/flink-hub/flink-hub/internal/observability"
	"github.com/flink-hub/flink-hub/internal/sharding/handoff"
	"github.com/flink-hub/flink-hub/internal/sharding/mcgate"
	"github.com/flink-hub/flink-hub/internal/sharding/shardkey"
)

// SetupOptions wire a controller into a manager.
type SetupOptions struct {
	// Gate admits owned keys (the object's own, KeyOf).
	Gate flinkdeployment.Gate
	// Replica is this replica's identity, recorded on reconcile spans.
	Replica string
	// ShardOf maps a key to its shard, recorded on reconcile spans.
	ShardOf func(key string) int
	// MaxConcurrentReconciles bounds parallel reconciles.
	MaxConcurrentReconciles int
	// MemberWorkerShare is the share of MaxConcurrentReconciles one member
	// may hold at once (flinkdeployment.SharedByMember).
	MemberWorkerShare float64
	// Sources are extra request sources (the requeuer of acquired shards).
	Sources []source.TypedSource[mcreconcile.Request]
}

// Kind is the controlled kind.
type Kind struct {
	// Name is the kind's name (FlinkSessionJob): the controller's name in
	// lower case, and the root span's.
	Name string
	// Object is an empty object of the kind.
	Object client.Object
	// ShardKind is the kind part of the objects' shard keys.
	ShardKind string
}

// KeyOf is the shard key of a request for an object of kind.
func (k Kind) KeyOf(req mcreconcile.Request) string {
	return shardkey.Key{Cluster: req.ClusterName.String(), Namespace: req.Namespace, Name: req.Name, Kind: k.ShardKind}.String()
}

// retryOptional is how often a member that does not serve the kind is
// asked again.
const retryOptional = 10 * time.Second

// Setup registers r as the controller of kind: spec, deletion, label and
// annotation changes of the objects this replica owns enqueue them; more
// adds further watches.
func Setup(mgr mcmanager.Manager, kind Kind, r reconcile.TypedReconciler[mcreconcile.Request], opts flinkdeployment.Options, o SetupOptions,
	more func(*mcbuilder.TypedBuilder[mcreconcile.Request]) *mcbuilder.TypedBuilder[mcreconcile.Request]) error {
	name := strings.ToLower(kind.Name)
	b := mcbuilder.ControllerManagedBy(mgr).Named(name).
		WithOptions(controller.TypedOptions[mcreconcile.Request]{MaxConcurrentReconciles: max(o.MaxConcurrentReconciles, 1), RateLimiter: opts.RetryLimiter()})
	if more != nil {
		b = more(b)
	}
	base := mgr.GetLogger().WithValues("controller", name)
	b = b.WithLogConstructor(func(req *mcreconcile.Request) logr.Logger {
		if req == nil {
			return base
		}
		return base.WithValues("cluster", req.ClusterName, "namespace", req.Namespace, "name", req.Name)
	})
	traced := observability.TraceReconciler(kind.Name, r,
		observability.WithReplica(o.Replica), observability.WithShardOf(o.ShardOf), observability.WithKeyOf(kind.KeyOf))
	outer, wake, err := flinkdeployment.SharedThenGated(o.Gate, kind.KeyOf, max(o.MaxConcurrentReconciles, 1), o.MemberWorkerShare, traced, nil)
	if err != nil {
		return err
	}
	for _, src := range append(o.Sources, wake) {
		b = b.WatchesRawSource(src)
	}
	c, err := b.Build(outer)
	if err != nil {
		return err
	}
	return c.MultiClusterWatch(optionalkind.New(kind.Object, mcgate.EnqueueKind(o.Gate, kind.ShardKind), retryOptional,
		predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, predicate.LabelChangedPredicate{})))
}

// Run runs one reconcile within the reconcile deadline and decides its
// requeue (requeue.Result). A step with a budget of its own (a jar upload)
// may go beyond the deadline (package deadline).
func Run(ctx context.Context, opts flinkdeployment.Options, reconcile func(context.Context) (time.Duration, error)) (reconcile.Result, error) {
	ctx, cancel := deadline.WithTimeout(ctx, opts.ReconcileTimeout)
	defer cancel()
	next, err := reconcile(ctx)
	return requeue.Result(err, next, opts.ReconcileInterval)
}

// Read finds the request's member and reads the object into obj from the
// member's cache. On the first reconcile after a handoff the cache may
// lack the previous owner's last writes: the cached copy is then used only
// when check (optional) confirms its version by a list of the namespace
// started after the acquisition (listconfirm: one list for the many keys
// a takeover moves), else the object is read live. found is false when
// the member is disengaged (its reconciles resume on re-engagement) or the
// object is gone.
func Read(ctx context.Context, clusters flinkdeployment.ClusterGetter, check flinkdeployment.CacheChecker, req mcreconcile.Request, obj client.Object) (cl cluster.Cluster, found bool, err error) {
	cl, err = clusters.GetCluster(ctx, req.ClusterName)
	if err != nil {
		return nil, false, nil
	}
	err = cl.GetClient().Get(ctx, req.NamespacedName, obj)
	if handoff.First(ctx) {
		err = flinkdeployment.ConfirmedOrLive(ctx, check, req.ClusterName.String(), cl, req.NamespacedName, obj)
	}
	if err != nil {
		return nil, false, client.IgnoreNotFound(err)
	}
	return cl, true, nil
}

// WriteStatus patches obj's status from written (what the reconcile read
// or last wrote), fenced by written's resourceVersion, as fieldOwner. An
// object already gone is not an error.
func WriteStatus(ctx context.Context, c client.Client, obj, written client.Object, fieldOwner string) error {
	patch := client.MergeFromWithOptions(written, client.MergeFromWithOptimisticLock{})
	if err := handoff.CheckOwned(ctx); err != nil {
		return err
	}
	if err := c.Status().Patch(ctx, obj, patch, client.FieldOwner(fieldOwner)); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("write status: %w", err)
	}
	return nil
}

// SetFinalizer adds (or, with add false, removes) finalizer on obj,
// fenced by its resourceVersion; an object already gone is not an error.
func SetFinalizer(ctx context.Context, c client.Client, obj client.Object, finalizer string, add bool) error {
	patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
	verb := "add"
	if add {
		controllerutil.AddFinalizer(obj, finalizer)
	} else {
		verb = "remove"
		controllerutil.RemoveFinalizer(obj, finalizer)
	}
	if err := handoff.CheckOwned(ctx); err != nil {
		return err
	}
	if err := c.Patch(ctx, obj, patch); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("%s finalizer: %w", verb, err)
	}
	return nil
}
