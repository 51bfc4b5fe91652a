package flinksessionjob

import (
	"context"
	"errors"
	"fmt"
	"strings"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/boundedtext"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
	"github.com/flink-hub/flink-hub/internal/problem"
	"github.com/flink-hub/flink-hub/internal/snapshots"
)

// snapshots takes the savepoints and checkpoints the spec and the settings
// ask for while the job runs, as upstream does for session jobs: a new
// savepointTriggerNonce or checkpointTriggerNonce, and the periodic ones
// (kubernetes.operator.periodic.savepoint.interval and
// .checkpoint.interval). It reports whether one is in flight.
// Savepoints and checkpoints go on side by side, as Flink takes them: a
// busy one never holds the other back.
func (r *Reconciler) snapshots(ctx context.Context, s *state, jm flinkrest.Client) (bool, error) {
	savepointBusy, serr := r.savepoints(ctx, s, jm)
	if serr != nil && !requeue.IsWaiting(serr) {
		return true, serr
	}
	checkpointBusy, cerr := r.checkpoints(ctx, s, jm)
	if cerr != nil {
		return true, cerr
	}
	return savepointBusy || checkpointBusy, serr
}

// savepoints follows a pending manual or periodic savepoint to its path,
// else triggers the one a new nonce or the interval asks for. A nonce is
// recorded with its trigger, persisted before Flink hears of it, so a crash
// never takes it twice.
func (r *Reconciler) savepoints(ctx context.Context, s *state, jm flinkrest.Client) (bool, error) {
	js := &s.job.Status.JobStatus
	if info := js.SavepointInfo; info != nil && info.TriggerID != "" && info.TriggerType != v1beta1.TriggerUpgrade {
		kind := info.TriggerType
		loc, err := r.pollSavepoint(ctx, s, jm)
		if err == nil {
			r.event(s, "Normal", "SavepointCompleted", strings.ToLower(string(kind))+" savepoint completed: "+loc)
		}
		return true, err
	}
	if js.State != v1beta1.JobRunning || s.last.Job == nil {
		return false, nil
	}
	if want := s.job.Spec.Job.SavepointTriggerNonce; want != nil && !v1beta1.EqualNonce(want, s.last.Job.SavepointTriggerNonce) {
		if err := r.recordNonce(s, func(j *v1beta1.JobSpec) { j.SavepointTriggerNonce = want }); err != nil {
			return true, err
		}
		return true, r.triggerSavepoint(ctx, s, jm, v1beta1.TriggerManual)
	}
	interval := snapshots.Interval(s.setting, flinkconf.KeyPeriodicSavepointInterval)
	if interval <= 0 {
		return false, nil
	}
	// Read without making it: an empty savepointInfo written for a job
	// whose savepoint is not due would be a write for nothing.
	var last int64
	if js.SavepointInfo != nil {
		last = js.SavepointInfo.LastPeriodicSavepointTimestamp
	}
	if wait := snapshots.PeriodicWait(last, js.StartTime, interval, r.now()); wait > 0 {
		s.next = min(s.next, wait)
		return false, nil
	}
	if js.SavepointInfo == nil {
		js.SavepointInfo = &v1beta1.SavepointInfo{}
	}
	// Recorded even if the trigger fails: the next waits a whole interval.
	js.SavepointInfo.LastPeriodicSavepointTimestamp = r.now().UnixMilli()
	return true, r.triggerSavepoint(ctx, s, jm, v1beta1.TriggerPeriodic)
}

// recordNonce marks a snapshot nonce handled in the last reconciled spec.
func (r *Reconciler) recordNonce(s *state, set func(*v1beta1.JobSpec)) error {
	last := s.last.DeepCopy()
	set(last.Job)
	encoded, err := encodeSpec(last, false)
	if err != nil {
		return err
	}
	s.job.Status.ReconciliationStatus.LastReconciledSpec, s.last = encoded, last
	seen(s)
	return nil
}

// checkpoints follows a pending checkpoint, else triggers the one a new
// checkpointTriggerNonce or the periodic interval asks for. The trigger id
// is the hub's, persisted (with the nonce) before Flink hears of it, and
// Flink's trigger is idempotent by that id.
func (r *Reconciler) checkpoints(ctx context.Context, s *state, jm flinkrest.Client) (bool, error) {
	js := &s.job.Status.JobStatus
	if info := js.CheckpointInfo; info != nil && info.TriggerID != "" {
		return true, r.pollCheckpoint(ctx, s, jm)
	}
	if js.State != v1beta1.JobRunning || s.last.Job == nil {
		return false, nil
	}
	if want := s.job.Spec.Job.CheckpointTriggerNonce; want != nil && !v1beta1.EqualNonce(want, s.last.Job.CheckpointTriggerNonce) {
		if err := r.recordNonce(s, func(j *v1beta1.JobSpec) { j.CheckpointTriggerNonce = want }); err != nil {
			return true, err
		}
		if v := s.flinkVersion(); !snapshots.CheckpointTriggerSupported(v) {
			// Handled, not sent: Flink would answer 404, now and later.
			s.problem = problem.New(problem.CheckpointFailed, snapshots.CheckpointTriggerUnsupported("manual", v))
			return true, nil
		}
		return true, r.triggerCheckpoint(ctx, s, jm, v1beta1.TriggerManual, nil)
	}
	interval := snapshots.Interval(s.setting, flinkconf.KeyPeriodicCheckpointInterval)
	if interval <= 0 {
		return false, nil
	}
	if v := s.flinkVersion(); !snapshots.CheckpointTriggerSupported(v) {
		// Never sent: said once, unless something more pressing is.
		if s.problem.IsZero() {
			s.problem = problem.New(problem.CheckpointFailed, snapshots.CheckpointTriggerUnsupported("periodic", v))
		}
		return false, nil
	}
	var last int64
	if js.CheckpointInfo != nil {
		last = js.CheckpointInfo.LastPeriodicCheckpointTimestamp
	}
	if wait := snapshots.PeriodicWait(last, js.StartTime, interval, r.now()); wait > 0 {
		s.next = min(s.next, wait)
		return false, nil
	}
	return true, r.triggerCheckpoint(ctx, s, jm, v1beta1.TriggerPeriodic, nil)
}

// triggerCheckpoint records a checkpoint trigger, persists it, then sends
// it. A periodic trigger records its time even when it fails. A retry
// passes the first attempt's trigger time (firstTriggered), which it
// keeps: the grace period counts from there; nil for a first attempt.
func (r *Reconciler) triggerCheckpoint(ctx context.Context, s *state, jm flinkrest.Client, trigger v1beta1.SnapshotTriggerType, firstTriggered *int64) error {
	js := &s.job.Status.JobStatus
	if js.CheckpointInfo == nil {
		js.CheckpointInfo = &v1beta1.CheckpointInfo{}
	}
	info := js.CheckpointInfo
	id, err := newID()
	if err != nil {
		return err
	}
	now := r.now().UnixMilli()
	if trigger == v1beta1.TriggerPeriodic {
		info.LastPeriodicCheckpointTimestamp = now
	}
	kind := snapshots.CheckpointType(s.setting)
	if firstTriggered != nil {
		now = *firstTriggered
	}
	info.TriggerID, info.TriggerType, info.FormatType, info.TriggerTimestamp = id, trigger, kind, &now
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	if _, err := jm.TriggerCheckpoint(ctx, js.JobID, flinkrest.CheckpointRequest{Type: api.CheckpointType(kind), TriggerID: id}); err != nil && flinkrest.KindOf(err) != flinkrest.KindTimeout {
		return r.checkpointFailed(s, err.Error())
	}
	r.event(s, "Normal", "CheckpointTriggered", strings.ToLower(string(trigger))+" checkpoint triggered")
	return requeue.Waiting(errors.New("checkpoint in progress"), r.Options.ProgressCheckInterval)
}

// pollCheckpoint follows the pending checkpoint: recorded as the last one
// once done, reported when it failed or Flink forgot it.
func (r *Reconciler) pollCheckpoint(ctx context.Context, s *state, jm flinkrest.Client) error {
	js := &s.job.Status.JobStatus
	info := js.CheckpointInfo
	op, err := jm.CheckpointStatus(ctx, js.JobID, info.TriggerID)
	switch {
	case flinkrest.IsNotFound(err):
		return r.checkpointFailed(s, "the JobManager no longer knows the checkpoint trigger")
	case err != nil:
		return fmt.Errorf("checkpoint of job %s: %w", js.JobID, err)
	case !op.Done:
		r.reportSnapshotStalled(s, true, info.TriggerType, info.TriggerTimestamp)
		return requeue.Waiting(errors.New("checkpoint in progress"), r.Options.ProgressCheckInterval)
	case op.Failure != "":
		if info.TriggerType == v1beta1.TriggerManual && snapshots.WithinGrace(s.setting, flinkconf.KeyCheckpointGracePeriod, info.TriggerTimestamp, r.now()) {
			r.event(s, "Warning", "CheckpointError", "Checkpoint failed within its trigger grace period, retrying: "+boundedtext.Quote(op.Failure, maxQuotedCause))
			return r.triggerCheckpoint(ctx, s, jm, v1beta1.TriggerManual, info.TriggerTimestamp)
		}
		return r.checkpointFailed(s, op.Failure)
	}
	cp := &v1beta1.Checkpoint{TimeStamp: r.now().UnixMilli(), TriggerType: info.TriggerType, FormatType: info.FormatType}
	if info.TriggerType == v1beta1.TriggerManual && s.last != nil && s.last.Job != nil {
		cp.TriggerNonce = s.last.Job.CheckpointTriggerNonce
	}
	info.LastCheckpoint = cp
	info.TriggerID, info.TriggerType, info.FormatType, info.TriggerTimestamp = "", "", "", nil
	s.problem = clearProblem(s.problem, problem.CheckpointFailed)
	r.event(s, "Normal", "CheckpointCompleted", strings.ToLower(string(cp.TriggerType))+" checkpoint completed")
	return nil
}

// checkpointFailed ends the pending checkpoint and reports why, how many
// failed in a row and when the next is taken: it is not retried until the
// nonce changes again or the next interval.
func (r *Reconciler) checkpointFailed(s *state, cause string) error {
	info := s.job.Status.JobStatus.CheckpointInfo
	s.problem = r.snapshotFailure(s, true, info.TriggerType, cause)
	info.TriggerID, info.TriggerType, info.FormatType, info.TriggerTimestamp = "", "", "", nil
	return nil
}

// snapshotFailure is the problem of a savepoint, or a checkpoint, of
// kind that failed with cause (snapshots.Failed): how many failed in a
// row, counted on from the problem status.error holds (a completed one
// ends it), and when the hub tries again.
func (r *Reconciler) snapshotFailure(s *state, checkpoint bool, kind v1beta1.SnapshotTriggerType, cause string) problem.Problem {
	return snapshots.Failed(s.problem, r.snapshotAttempt(s, checkpoint, kind), cause)
}

// snapshotAttempt is a savepoint, or a checkpoint, of kind that failed
// now, as its report and its retry need it.
func (r *Reconciler) snapshotAttempt(s *state, checkpoint bool, kind v1beta1.SnapshotTriggerType) snapshots.Attempt {
	return snapshots.Attempt{Checkpoint: checkpoint, Trigger: kind, Deletion: !s.job.DeletionTimestamp.IsZero(),
		Now: r.now(), ReconcileInterval: r.Options.ReconcileInterval, Setting: s.setting, Job: &s.job.Status.JobStatus}
}
