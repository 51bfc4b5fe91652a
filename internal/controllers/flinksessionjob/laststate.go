package flinksessionjob

import (
	"context"
	"errors"
	"fmt"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/checkpoints"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// MsgCheckpointNotAddressable is the report of a session job cancelled for
// a last-state upgrade whose latest checkpoint Flink names without a path.
const MsgCheckpointNotAddressable = "Latest checkpoint not externally addressable (no path: is state.checkpoints.dir set?). " +
	"Manual restore required: set job.upgradeMode to stateless to start the new spec without state, or delete the session job " +
	"and create it again with job.initialSavepointPath set to a known savepoint or checkpoint."

// stopForLastState stops the running job for a last-state upgrade or
// suspend as upstream does for a session job (allowLastStateCancel: it has
// no HA metadata of its own): it is cancelled, its checkpoints retained,
// and the upgrade restores from its latest one; a cancellation that does
// not end is reported (awaitCancel). With
// last-state.max.allowed.checkpoint.age, a job that neither started nor
// completed a checkpoint within it waits for a checkpoint pending within
// it, else is stopped with a savepoint (the validation asks for a
// savepoint directory with that setting).
func (r *Reconciler) stopForLastState(ctx context.Context, s *state, jm flinkrest.Client) error {
	js := &s.job.Status.JobStatus
	if js.State == v1beta1.JobCancelling {
		return r.awaitCancel(s, lastStateUpgrade)
	}
	switch fresh, err := r.lastStateFreshness(ctx, s, jm); {
	case err != nil:
		return err
	case fresh == plan.PendingFresh:
		return requeue.Waiting(errors.New("waiting for the pending checkpoint before the last-state upgrade"), r.Options.ProgressCheckInterval)
	case fresh == plan.Stale:
		return r.triggerSavepoint(ctx, s, jm, v1beta1.TriggerUpgrade)
	}
	if err := r.cancelForUpgrade(ctx, s, jm, lastStateUpgrade); err != nil {
		return err
	}
	r.event(s, "Normal", "CancellingJob", "Cancelling the job for a last-state upgrade from its latest checkpoint (a session job has no HA metadata of its own)")
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	return r.awaitCancel(s, lastStateUpgrade)
}

// lastStateUpgrade names the last-state upgrade (or suspend) in messages.
const lastStateUpgrade = "the last-state upgrade"

// lastStateFreshness judges the running job's latest checkpoint by
// last-state.max.allowed.checkpoint.age (plan.CheckpointFreshness),
// reading Flink's checkpoint statistics only when the setting asks for
// them. A setting that does not parse is refused before anything stops.
func (r *Reconciler) lastStateFreshness(ctx context.Context, s *state, jm flinkrest.Client) (plan.Freshness, error) {
	text := s.setting(flinkconf.KeyLastStateMaxCheckpointAge)
	if text == "" {
		return plan.Fresh, nil
	}
	maxAge, err := flinkconf.ParseDuration(text)
	if err != nil {
		s.problem = problem.New(problem.InvalidSpec, fmt.Sprintf("invalid %s: %v", flinkconf.KeyLastStateMaxCheckpointAge, err))
		return 0, requeue.Waiting(err, r.Options.ReconcileInterval)
	}
	js := &s.job.Status.JobStatus
	fresh := plan.CheckpointFreshness(maxAge, r.now(), js.StartTime, nil)
	if fresh != plan.ReadFirst {
		return fresh, nil
	}
	times, err := checkpoints.Read(ctx, jm, js.JobID)
	if err != nil {
		return 0, err
	}
	return plan.CheckpointFreshness(maxAge, r.now(), js.StartTime, &times), nil
}

// cancelledForLastState reports a last-state upgrade or suspend of a job
// the session cluster shows cancelled (by the hub, or by anyone: Flink
// retains a cancelled job's checkpoints), which restores from the job's
// latest checkpoint as upstream's observeLatestCheckpoint reads it.
func cancelledForLastState(s *state) bool {
	return upgradeMode(&s.job.Spec) == v1beta1.UpgradeModeLastState && !s.missing &&
		s.job.Status.JobStatus.JobID != "" && s.job.Status.JobStatus.State == v1beta1.JobCanceled
}

// recordLatestCheckpoint records the cancelled job's latest retained
// checkpoint (checkpoints.LatestRetained) as the upgrade's restore
// path; the submission or suspend after it persists the path before
// anything else is done, and while Flink shows the cancelled job an
// interrupted reconcile reads the same answer again. A job of which Flink
// reports no checkpoint, savepoint or restore never had state to keep: it
// starts empty, as upstream, with an UpgradeWithoutState Warning event.
// One whose latest checkpoint has no path needs a manual restore: the
// status is left as it is.
func (r *Reconciler) recordLatestCheckpoint(ctx context.Context, s *state, jm flinkrest.Client) error {
	js := &s.job.Status.JobStatus
	times, err := checkpoints.Read(ctx, jm, js.JobID)
	switch {
	case err != nil:
		return fmt.Errorf("the job cancelled for the last-state upgrade: %w", err)
	case times.Retained && times.CompletedPath == "":
		s.problem = problem.New(problem.ManualRestoreRequired, MsgCheckpointNotAddressable)
		return requeue.Waiting(errors.New("manual restore required"), r.Options.ReconcileInterval)
	case !times.Retained:
		js.UpgradeSavepointPath = ""
		s.afterWrite = append(s.afterWrite, func(context.Context) {
			r.event(s, "Warning", flinkdeployment.ReasonUpgradeWithoutState, flinkdeployment.MsgUpgradeWithoutState)
		})
	default:
		js.UpgradeSavepointPath = times.CompletedPath
		r.event(s, "Normal", "UpgradeFromCheckpoint", "The cancelled job's latest checkpoint starts the upgrade: "+times.CompletedPath)
	}
	s.problem = clearProblem(s.problem, problem.ManualRestoreRequired)
	return nil
}
