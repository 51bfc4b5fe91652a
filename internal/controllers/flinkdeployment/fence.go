package flinkdeployment

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/sharding/handoff"
)

// The write-level fence. A reconcile acts on the FlinkDeployment it read;
// every write of it (status, finalizer) carries the resourceVersion read,
// so a write based on an outdated read (a replica that was paused past its
// fence, or a cache that lags) fails with a conflict instead of landing,
// and the reconcile is retried from a fresh read. Each write also checks,
// just before it is sent, that the replica still holds the key's fence by
// its own clock (handoff.CheckOwned): the lock alone lets a paused
// replica's write land while the new owner has not written yet. Steps that cannot be
// taken back and are not preceded by such a write (deleting a Flink
// cluster, cancelling a job, deploying) first check the FlinkDeployment
// live.

// fencedPatch is a merge patch from base that the apiserver applies only
// while the object still has base's resourceVersion.
func fencedPatch(base client.Object) client.Patch {
	return client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})
}

// writeStatus patches fd's status from before, fenced, as the hub's field
// manager: the managed fields then tell the hub's status writes from
// another operator's (foreign.go).
//
// fd keeps its spec: the apiserver's answer brings the spec as stored,
// and the spec a reconcile works on carries the default configuration
// (applyDefaults); only the metadata (its new resourceVersion) and the
// status are taken from the answer.
func (r *Reconciler) writeStatus(ctx context.Context, c client.Client, fd, before *v1beta1.FlinkDeployment) error {
	out := fd.DeepCopy()
	if err := handoff.CheckOwned(ctx); err != nil {
		return err
	}
	if err := c.Status().Patch(ctx, out, fencedPatch(before), client.FieldOwner(r.Options.FieldOwner)); err != nil {
		return err
	}
	r.own.wrote(fd.UID, before.ResourceVersion, r.now())
	fd.ObjectMeta, fd.Status = out.ObjectMeta, out.Status
	return nil
}

// read returns the FlinkDeployment of key for a reconcile, nil when it is
// gone, or how soon to look again when the cache still lacks this
// replica's own last write of it (ownWrites).
//
// It reads the cache, except right after this replica took the key over:
// the cache may then lack the previous owner's last writes (a trigger id,
// a savepoint path), and the first reconcile reads the apiserver, unless
// CacheCheck confirms the cached version by a list of the key's
// namespace in the member, started after the acquisition (one list for the
// many keys a takeover moves). A
// FlinkDeployment without the hub's finalizer is the exception to the
// exception: nothing is done for it before the finalizer is written, and
// that write, fenced by the resourceVersion read, fails if the cache was
// behind (a new FlinkDeployment costs no extra read).
func (r *Reconciler) read(ctx context.Context, member string, cl cluster.Cluster, key types.NamespacedName) (*v1beta1.FlinkDeployment, time.Duration, error) {
	fd := &v1beta1.FlinkDeployment{}
	if err := cl.GetClient().Get(ctx, key, fd); err != nil {
		return nil, 0, client.IgnoreNotFound(err)
	}
	if handoff.First(ctx) && (controllerutil.ContainsFinalizer(fd, Finalizer) || !fd.DeletionTimestamp.IsZero()) {
		if err := ConfirmedOrLive(ctx, r.CacheCheck, member, cl, key, fd); err != nil {
			return nil, 0, client.IgnoreNotFound(err)
		}
		return fd, 0, nil
	}
	if r.own.lagging(fd.UID, fd.ResourceVersion, r.now()) {
		return nil, ownWriteRecheck, nil
	}
	return fd, 0, nil
}

// ConfirmedOrLive makes obj, read from the member's cache (or not found
// there), current for the first reconcile after its shard was acquired:
// it keeps the cached copy when check (optional) confirms that a list
// started after the acquisition saw that very version (as good as a live
// read), and else reads obj live from the member's apiserver.
func ConfirmedOrLive(ctx context.Context, check CacheChecker, member string, cl cluster.Cluster, key types.NamespacedName, obj client.Object) error {
	if rv := obj.GetResourceVersion(); rv != "" && check != nil && check.Current(ctx, member, cl.GetAPIReader(), key, rv, handoff.Acquired(ctx)) {
		return nil
	}
	return cl.GetAPIReader().Get(ctx, key, obj)
}

// flinkDeployments names the resource in conflict errors.
var flinkDeployments = schema.GroupResource{Group: v1beta1.GroupVersion.Group, Resource: "flinkdeployments"}

// confirmedFor is how long a fenced write that went through stands for a
// live read of the FlinkDeployment (confirmCurrent).
const confirmedFor = time.Second

// confirmCurrent reads the FlinkDeployment from the member's apiserver,
// not the cache, and returns a conflict when it changed since this
// reconcile read it. A fenced write of this reconcile in the last
// confirmedFor stands for the read.
func confirmCurrent(ctx context.Context, s *state, step string) error {
	if !s.confirmed.IsZero() && time.Since(s.confirmed) < confirmedFor {
		// A fenced write of this reconcile just went through: as good
		// as a read.
		return nil
	}
	return ConfirmLive(ctx, s.cluster, s.fd, flinkDeployments, step)
}

// ConfirmLive reads obj (of resource gr: a FlinkDeployment, a
// FlinkSessionJob) from the member's apiserver, not the cache, and
// returns a conflict when its resourceVersion is no longer the one this
// reconcile read or wrote: step, a call to Flink that cannot be taken back
// and that no fenced write precedes, is then not made for an outdated
// read.
func ConfirmLive(ctx context.Context, cl cluster.Cluster, obj client.Object, gr schema.GroupResource, step string) error {
	live, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return fmt.Errorf("read before %s: %T is not an object", step, obj)
	}
	if err := cl.GetAPIReader().Get(ctx, client.ObjectKeyFromObject(obj), live); err != nil {
		return fmt.Errorf("read before %s: %w", step, err)
	}
	if live.GetResourceVersion() != obj.GetResourceVersion() {
		return apierrors.NewConflict(gr, obj.GetName(),
			errors.New("changed since this reconcile read it; not "+step+", reconciling again from a fresh read"))
	}
	return nil
}
