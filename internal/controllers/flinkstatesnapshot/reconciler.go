// Package flinkstatesnapshot is the FlinkStateSnapshot controller: it takes
// the savepoint or checkpoint a snapshot resource asks for, of the
// FlinkDeployment or FlinkSessionJob it references, as the Apache operator
// does. The trigger id is the hub's, recorded (state IN_PROGRESS) before
// Flink hears of it, so a replica that stops mid-snapshot leaves a trigger
// the next one follows, never a second snapshot. A failed attempt is
// triggered again after a backoff until spec.backoffLimit, then FAILED; a
// job that is gone or not running ABANDONs it. A savepoint with
// alreadyExists is recorded as COMPLETED at its path. Deleting a completed
// savepoint with disposeOnDelete disposes of its files through the job's
// JobManager first.
package flinkstatesnapshot

import (
	"context"
	"errors"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/memberkind"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
)

// Finalizer is the upstream operator's finalizer on FlinkStateSnapshots.
const Finalizer = "flinkstatesnapshots.flink.apache.org/finalizer"

// Reconciler reconciles FlinkStateSnapshots in member clusters.
type Reconciler struct {
	// Clusters gives the member clusters.
	Clusters flinkdeployment.ClusterGetter
	// JobManagers gives Flink REST clients of the jobs' clusters.
	JobManagers flinkdeployment.JobManagerClients
	// Options are the intervals and the field owner, shared with the
	// FlinkDeployment controller.
	Options flinkdeployment.Options
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// CacheCheck confirms the cached snapshot on the first reconcile
	// after a takeover by one list of its namespace (listconfirm);
	// optional: without it that reconcile reads the snapshot live.
	CacheCheck flinkdeployment.CacheChecker
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// state is one reconcile's working set.
type state struct {
	cluster     cluster.Cluster
	clusterName string
	snap        *v1beta1.FlinkStateSnapshot
	written     *v1beta1.FlinkStateSnapshot
}

// Reconcile runs one reconcile of a FlinkStateSnapshot; wrap it with the
// gate (flinkdeployment.GatedBy with RequestKey).
func (r *Reconciler) Reconcile(ctx context.Context, req mcreconcile.Request) (reconcile.Result, error) {
	return memberkind.Run(ctx, r.Options, func(ctx context.Context) (time.Duration, error) { return r.reconcile(ctx, req) })
}

func (r *Reconciler) reconcile(ctx context.Context, req mcreconcile.Request) (time.Duration, error) {
	snap := &v1beta1.FlinkStateSnapshot{}
	cl, found, err := memberkind.Read(ctx, r.Clusters, r.CacheCheck, req, snap)
	if !found {
		return 0, err
	}
	s := &state{cluster: cl, clusterName: req.ClusterName.String(), snap: snap, written: snap.DeepCopy()}
	if !snap.DeletionTimestamp.IsZero() {
		return 0, r.finalize(ctx, s)
	}
	if !controllerutil.ContainsFinalizer(snap, Finalizer) && disposes(snap) {
		if err := memberkind.SetFinalizer(ctx, cl.GetClient(), snap, Finalizer, true); err != nil {
			return 0, err
		}
		s.written = snap.DeepCopy()
	}
	err = r.advance(ctx, s)
	if perr := r.persist(ctx, s); perr != nil && (err == nil || requeue.IsWaiting(err)) {
		err = perr
	}
	return 0, err
}

// disposes reports whether deleting snap must dispose of its savepoint.
func disposes(snap *v1beta1.FlinkStateSnapshot) bool {
	return snap.Spec.Savepoint != nil && snap.Spec.Savepoint.DisposeOnDelete
}

// persist writes the status when it changed, fenced by the
// resourceVersion read.
func (r *Reconciler) persist(ctx context.Context, s *state) error {
	if equality.Semantic.DeepEqual(s.written.Status, s.snap.Status) {
		return nil
	}
	if err := memberkind.WriteStatus(ctx, s.cluster.GetClient(), s.snap, s.written, r.Options.FieldOwner); err != nil {
		return err
	}
	s.written = s.snap.DeepCopy()
	return nil
}

// event records an event on the snapshot in its member cluster.
func (r *Reconciler) event(s *state, eventType, reason, msg string) {
	s.cluster.GetEventRecorder("flink-hub").Eventf(s.snap, nil, eventType, reason, reason, "%s", msg)
}

// timestamp is t as the status writes it.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

var errInProgress = errors.New("snapshot in progress")
