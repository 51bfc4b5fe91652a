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
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
	"github.com/flink-hub/flink-hub/internal/flinkrest/checkpoints"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// MsgCheckpointNotAddressable is the report of a session job that ended
// (cancelled for a last-state upgrade, or by anyone; failed; finished)
// whose latest checkpoint Flink names without a path.
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

// endedWithState reports an upgrade or suspend, in last-state or
// savepoint mode, of a job that ended: CANCELED (by the hub, or by anyone:
// Flink retains a cancelled job's checkpoints), FAILED or FINISHED (a
// savepoint-mode job the upgrade stopped with a savepoint included). As
// upstream's SnapshotObserver.observeLatestCheckpoint reads it for any
// job in a globally terminal state, whatever the upgrade mode, and
// AbstractJobReconciler.getJobUpgrade restores a terminal job from it
// before it looks at the mode (useStatusSavepoint), its latest state
// restores it (recordLatestState), not the newest savepoint alone.
func endedWithState(s *state) bool {
	js := &s.job.Status.JobStatus
	switch js.State {
	case v1beta1.JobCanceled, v1beta1.JobFailed, v1beta1.JobFinished:
		mode := upgradeMode(&s.job.Spec)
		return (mode == v1beta1.UpgradeModeLastState || mode == v1beta1.UpgradeModeSavepoint) && js.JobID != ""
	}
	return false
}

// recordLatestState records where the upgrade (or the resume after a
// suspend) of the ended job starts, as upgradeSavepointPath: the newer of
// its latest retained checkpoint and the newest savepoint recorded
// (checkpoints.Newest); the submission or suspend after it persists the
// path before anything else is done, and while Flink shows the job an
// interrupted reconcile reads the same answer again. A job of which
// neither is known never had state to keep: it starts empty, as
// upstream, with an UpgradeWithoutState Warning event (savepoint mode
// too: upstream's lastSavepointKnown lets a terminal job with no path
// known restore from none). One whose latest checkpoint has no path
// needs a manual restore: the status is left as it is. Flink keeping no
// checkpoint statistics of the job (endedStatistics) is Flink reporting
// nothing. A job the session cluster no longer knows has no checkpoints
// to read: it starts from the newest savepoint recorded, if any
// (recordForgotten).
func (r *Reconciler) recordLatestState(ctx context.Context, s *state, jm flinkrest.Client) error {
	js := &s.job.Status.JobStatus
	if s.missing {
		r.recordForgotten(s)
		return nil
	}
	stats, gone, err := endedStatistics(ctx, jm, js.JobID)
	switch {
	case err != nil:
		return fmt.Errorf("the %s job's latest state for the %s upgrade: %w", js.State, upgradeMode(&s.job.Spec), err)
	case gone:
		r.recordForgotten(s)
		return nil
	}
	recorded, at := plan.NewestRecorded(js, s.job.Status.ReconciliationStatus.ReconciliationTimestamp)
	switch path, from := checkpoints.Newest(stats.Latest, recorded, at); from {
	case checkpoints.NotAddressable:
		s.problem = problem.New(problem.ManualRestoreRequired, MsgCheckpointNotAddressable)
		return requeue.Waiting(errors.New("manual restore required"), r.Options.ReconcileInterval)
	case checkpoints.NoState:
		js.UpgradeSavepointPath = ""
		msg := fmt.Sprintf(msgEndedWithoutState, js.State) // now: the submission changes the state
		s.afterWrite = append(s.afterWrite, func(context.Context) {
			r.event(s, "Warning", flinkdeployment.ReasonUpgradeWithoutState, msg)
		})
	case checkpoints.FromRecorded:
		js.UpgradeSavepointPath = path
		r.event(s, "Normal", "UpgradeFromSavepoint", fmt.Sprintf("The newest savepoint recorded is newer than anything Flink reports of the %s job: it is recorded to start from: %s", js.State, path))
	default:
		js.UpgradeSavepointPath = path
		r.event(s, "Normal", "UpgradeFromCheckpoint", fmt.Sprintf("The %s job's latest checkpoint or savepoint, as Flink reports it, is recorded to start from: %s", js.State, path))
	}
	s.problem = clearProblem(s.problem, problem.ManualRestoreRequired)
	return nil
}

// endedStatistics reads the ended job's checkpoint statistics. Flink
// answers 404 both for a job it keeps none of ("Checkpointing has not been
// enabled.": a batch job, whose graph the adaptive batch scheduler builds
// without checkpointing; upstream's getLastCheckpoint reads that answer as
// no checkpoint) and for a job it no longer knows: the job is read again
// to tell which. The first is statistics naming nothing; the second is
// gone (its details expired since observe read them).
func endedStatistics(ctx context.Context, jm flinkrest.Client, jobID string) (stats *api.CheckpointingStatistics, gone bool, err error) {
	stats, err = checkpoints.Statistics(ctx, jm, jobID)
	if !flinkrest.IsNotFound(err) {
		return stats, false, err
	}
	switch _, err := jm.JobDetails(ctx, jobID); {
	case flinkrest.IsNotFound(err):
		return nil, true, nil
	case err != nil:
		return nil, false, fmt.Errorf("read job %s: %w", jobID, err)
	}
	return &api.CheckpointingStatistics{}, false, nil
}

// msgEndedWithoutState says why the upgrade of an ended job (its state
// %s) starts empty, and how to keep state across the next one.
const msgEndedWithoutState = "The %s job never completed a checkpoint and was not started from a savepoint " +
	"(Flink reports no checkpoint, savepoint or restore of it, and the status records none): there is no state to keep, so the new spec starts empty, as upstream does. " +
	"To keep state across upgrades, let the job checkpoint (execution.checkpointing.interval, state.checkpoints.dir) or set a savepoint directory (state.savepoints.dir)."

// recordForgotten records the newest savepoint recorded as where the
// upgrade of an ended job the session cluster no longer knows starts
// (none: without state), with a Warning event saying so: its checkpoints
// cannot be read any more.
func (r *Reconciler) recordForgotten(s *state) {
	js := &s.job.Status.JobStatus
	js.UpgradeSavepointPath, _ = plan.NewestRecorded(js, s.job.Status.ReconciliationStatus.ReconciliationTimestamp)
	from := "without state: no savepoint of it is recorded"
	if js.UpgradeSavepointPath != "" {
		from = "from the newest savepoint recorded, " + js.UpgradeSavepointPath
	}
	r.event(s, "Warning", ReasonLatestStateUnknown, fmt.Sprintf("Session cluster %s no longer knows the %s job %s, so its latest checkpoint cannot be read: the upgrade starts %s",
		s.job.Spec.DeploymentName, js.State, js.JobID, from))
}

// ReasonLatestStateUnknown is the reason of the event saying a last-state
// or savepoint upgrade of an ended job the session cluster forgot starts
// from the newest savepoint recorded, its latest checkpoint unknown.
const ReasonLatestStateUnknown = "LatestStateUnknown"
