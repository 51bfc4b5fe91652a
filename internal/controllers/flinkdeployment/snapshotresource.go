package flinkdeployment

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/snapshots"
)

// Labels of the FlinkStateSnapshots the hub records for its own savepoints.
const (
	// LabelSnapshotJob names the job the savepoint is of.
	LabelSnapshotJob = "flink-hub.io/job"
	// LabelSnapshotJobKind is that job's kind.
	LabelSnapshotJobKind = "flink-hub.io/job-kind"
	// LabelSnapshotTrigger is what took the savepoint (UPGRADE, PERIODIC,
	// MANUAL), lower case.
	LabelSnapshotTrigger = "flink-hub.io/trigger"
)

// RecordSnapshot records a savepoint the hub took of job (a
// FlinkDeployment or FlinkSessionJob of kind) as a FlinkStateSnapshot,
// unless kubernetes.operator.snapshot.resource.enabled is false (on by
// default, as upstream): an existing savepoint (alreadyExists) at its
// path, named after the job, the trigger and the time, with no owner, so
// that it outlives the job (a later one can start from it), disposed of on
// deletion when kubernetes.operator.savepoint.dispose-on-delete is true.
// The savepoint is already in the status: a snapshot that cannot be
// created is reported by warn and not retried.
func RecordSnapshot(ctx context.Context, c client.Client, job client.Object, kind v1beta1.JobKind, sp v1beta1.Savepoint, setting snapshots.Setting, warn func(msg string)) {
	if on, ok := flinkconf.Bool(setting(flinkconf.KeySnapshotResource)); (ok && !on) || sp.Location == "" {
		return
	}
	dispose, _ := flinkconf.Bool(setting(flinkconf.KeySavepointDisposeOnDelete))
	trigger := strings.ToLower(string(sp.TriggerType))
	if trigger == "" {
		trigger = "unknown"
	}
	snap := &v1beta1.FlinkStateSnapshot{
		ObjectMeta: metav1.ObjectMeta{Namespace: job.GetNamespace(), Name: fmt.Sprintf("%s-%s-%d", job.GetName(), trigger, sp.TimeStamp),
			Labels: map[string]string{LabelSnapshotJob: job.GetName(), LabelSnapshotJobKind: string(kind), LabelSnapshotTrigger: trigger}},
		Spec: v1beta1.FlinkStateSnapshotSpec{
			JobReference: &v1beta1.JobReference{Kind: kind, Name: job.GetName()},
			Savepoint:    &v1beta1.SavepointSpec{AlreadyExists: true, Path: sp.Location, FormatType: sp.FormatType, DisposeOnDelete: dispose},
		},
	}
	if err := c.Create(ctx, snap); err != nil && !apierrors.IsAlreadyExists(err) {
		warn(fmt.Sprintf("savepoint %s not recorded as FlinkStateSnapshot %s: %v", sp.Location, snap.Name, err))
	}
}

// snapshotWarning is RecordSnapshot's warn for a FlinkDeployment.
func (r *Reconciler) snapshotWarning(s *state) func(string) {
	return func(msg string) { r.event(s, corev1.EventTypeWarning, "SnapshotNotRecorded", msg) }
}

// ForgetSnapshots deletes the FlinkStateSnapshots the hub recorded for
// job's savepoints at the disposed paths: history trimming disposed of
// their files, and a snapshot must not name a path that is gone. Their
// disposeOnDelete is turned off first, so that their deletion does not
// dispose of the files a second time. A snapshot that cannot be deleted is
// reported by warn.
func ForgetSnapshots(ctx context.Context, c client.Client, job client.Object, disposed []string, warn func(msg string)) {
	if len(disposed) == 0 {
		return
	}
	var list v1beta1.FlinkStateSnapshotList
	if err := c.List(ctx, &list, client.InNamespace(job.GetNamespace()), client.MatchingLabels{LabelSnapshotJob: job.GetName()}); err != nil {
		if !meta.IsNoMatchError(err) {
			warn(fmt.Sprintf("cannot list the snapshots of disposed savepoints: %v", err))
		}
		return
	}
	for i := range list.Items {
		snap := &list.Items[i]
		if snap.Spec.Savepoint == nil || !slices.Contains(disposed, snap.Spec.Savepoint.Path) {
			continue
		}
		if snap.Spec.Savepoint.DisposeOnDelete {
			patch := client.MergeFromWithOptions(snap.DeepCopy(), client.MergeFromWithOptimisticLock{})
			snap.Spec.Savepoint.DisposeOnDelete = false
			if err := c.Patch(ctx, snap, patch); err != nil {
				warn(fmt.Sprintf("snapshot %s of disposed savepoint %s kept: %v", snap.Name, snap.Spec.Savepoint.Path, err))
				continue
			}
		}
		if err := c.Delete(ctx, snap); client.IgnoreNotFound(err) != nil {
			warn(fmt.Sprintf("snapshot %s of disposed savepoint %s kept: %v", snap.Name, snap.Spec.Savepoint.Path, err))
		}
	}
}
