package flinkdeployment

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

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
	fd.ObjectMeta, fd.Status = out.ObjectMeta, out.Status
	return nil
}

// flinkDeployments names the resource in conflict errors.
var flinkDeployments = schema.GroupResource{Group: v1beta1.GroupVersion.Group, Resource: "flinkdeployments"}

// confirmCurrent reads the FlinkDeployment from the member's apiserver,
// not the cache, and returns a conflict when it changed since this
// reconcile read it.
func confirmCurrent(ctx context.Context, s *state, step string) error {
	live := &v1beta1.FlinkDeployment{}
	if err := s.cluster.GetAPIReader().Get(ctx, client.ObjectKeyFromObject(s.fd), live); err != nil {
		return fmt.Errorf("read before %s: %w", step, err)
	}
	if live.ResourceVersion != s.fd.ResourceVersion {
		return apierrors.NewConflict(flinkDeployments, s.fd.Name,
			errors.New("changed since this reconcile read it; not "+step+", reconciling again from a fresh read"))
	}
	return nil
}
