package flinkdeployment

import (
	"context"
	"errors"
	"github.com/flink-hub/flink-hub/internal/boundedtext"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"strings"

	corev1 "k8s.io/api/core/v1"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
	"github.com/flink-hub/flink-hub/internal/problem"
	"github.com/flink-hub/flink-hub/internal/snapshots"
)

// manualCheckpoint triggers a checkpoint when job.checkpointTriggerNonce
// changed, and completes a pending one (manual or periodic). As with
// savepoints, the handled nonce and the trigger are persisted together, so a
// crash never takes it twice; a failed trigger is reported and not retried
// until the nonce changes again.
func (r *Reconciler) manualCheckpoint(ctx context.Context, s *state) error {
	st := &s.fd.Status
	if info := st.JobStatus.CheckpointInfo; info != nil && info.TriggerID != "" {
		if why := triggerLost(s); why != "" {
			r.event(s, corev1.EventTypeWarning, "CheckpointError", "Checkpoint lost: "+why)
			return r.checkpointFailed(ctx, s, info, why+"; its trigger is lost")
		}
		return r.pollCheckpoint(ctx, s, info)
	}
	if due, err := r.nonceDue(s, func(j *v1beta1.JobSpec) **int64 { return &j.CheckpointTriggerNonce }); err != nil || !due {
		return err
	}
	if v := deployedVersion(s); !snapshots.CheckpointTriggerSupported(v) {
		// Handled, not sent: Flink would answer 404, now and later.
		s.report(problem.New(problem.CheckpointFailed, snapshots.CheckpointTriggerUnsupported("manual", v)))
		return r.persist(ctx, s)
	}
	return r.triggerCheckpoint(ctx, s, v1beta1.TriggerManual, nil)
}

// deployedVersion is the Flink version of the running cluster
// (runningSpec's).
func deployedVersion(s *state) v1beta1.FlinkVersion {
	return runningSpec(s).FlinkVersion
}

// periodicCheckpoint triggers a checkpoint when
// kubernetes.operator.periodic.checkpoint.interval (runningSpec's) has
// passed since the last periodic one, as upstream does; manualCheckpoint
// completes it.
func (r *Reconciler) periodicCheckpoint(ctx context.Context, s *state) error {
	interval := plan.DurationSetting(runningSpec(s), flinkconf.KeyPeriodicCheckpointInterval)
	if interval <= 0 {
		return nil
	}
	st := &s.fd.Status
	info := st.JobStatus.CheckpointInfo
	if st.JobManagerDeploymentStatus != v1beta1.JobManagerReady || st.JobStatus.State != v1beta1.JobRunning || (info != nil && info.TriggerID != "") {
		return nil
	}
	var last int64
	if info != nil {
		last = info.LastPeriodicCheckpointTimestamp
	}
	if v := deployedVersion(s); !snapshots.CheckpointTriggerSupported(v) {
		// Never sent: said once, unless something more pressing is.
		if s.problem.IsZero() {
			s.report(problem.New(problem.CheckpointFailed, snapshots.CheckpointTriggerUnsupported("periodic", v)))
		}
		return nil
	}
	if wait := snapshots.PeriodicWait(last, st.JobStatus.StartTime, interval, r.now()); wait > 0 {
		s.next = min(s.next, wait)
		return nil
	}
	return r.triggerCheckpoint(ctx, s, v1beta1.TriggerPeriodic, nil)
}

// triggerCheckpoint starts a checkpoint of the kind the spec asks for and
// persists its trigger id. A periodic trigger records its time even when
// it fails, so the next one waits a whole interval. A retry passes the
// first attempt's trigger time (firstTriggered), which it keeps: the grace
// period counts from there; nil for a first attempt.
func (r *Reconciler) triggerCheckpoint(ctx context.Context, s *state, trigger v1beta1.SnapshotTriggerType, firstTriggered *int64) error {
	st := &s.fd.Status
	jm, err := r.JobManagers(s.clusterName, s.cluster.GetConfig(), s.fd)
	if err != nil {
		return err
	}
	now := r.now().UnixMilli()
	info := &v1beta1.CheckpointInfo{LastCheckpoint: lastCheckpoint(st)}
	if old := st.JobStatus.CheckpointInfo; old != nil {
		info.LastPeriodicCheckpointTimestamp = old.LastPeriodicCheckpointTimestamp
	}
	if trigger == v1beta1.TriggerPeriodic {
		info.LastPeriodicCheckpointTimestamp = now
	}
	st.JobStatus.CheckpointInfo = info
	kind := snapshots.CheckpointType(s.setting)
	id, err := jm.TriggerCheckpoint(ctx, st.JobStatus.JobID, flinkrest.CheckpointRequest{Type: api.CheckpointType(kind)})
	if err != nil {
		s.report(r.snapshotFailure(s, true, trigger, err.Error()))
		return r.persist(ctx, s)
	}
	if firstTriggered != nil {
		now = *firstTriggered
	}
	info.TriggerID, info.TriggerType, info.FormatType, info.TriggerTimestamp = id, trigger, kind, &now
	r.event(s, corev1.EventTypeNormal, "CheckpointTriggered", strings.ToLower(string(trigger))+" checkpoint triggered")
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	return requeue.Waiting(errors.New("checkpoint in progress"), r.Options.ProgressCheckInterval)
}

// pollCheckpoint checks a pending checkpoint: it records it as the last
// checkpoint once done, waits while in progress, and reports a failure.
func (r *Reconciler) pollCheckpoint(ctx context.Context, s *state, info *v1beta1.CheckpointInfo) error {
	st := &s.fd.Status
	jm, err := r.JobManagers(s.clusterName, s.cluster.GetConfig(), s.fd)
	if err != nil {
		return err
	}
	op, err := jm.CheckpointStatus(ctx, st.JobStatus.JobID, info.TriggerID)
	var fe *flinkrest.Error
	switch {
	case errors.As(err, &fe) && fe.Kind == flinkrest.KindNotFound:
		// The JobManager forgot the trigger (it restarted).
		return r.checkpointFailed(ctx, s, info, "the JobManager no longer knows the checkpoint trigger")
	case err != nil:
		return err
	case !op.Done:
		if p := r.snapshotStalled(s, true, info.TriggerType, info.TriggerTimestamp); !p.IsZero() {
			s.report(p)
		}
		return requeue.Waiting(errors.New("checkpoint in progress"), r.Options.ProgressCheckInterval)
	case op.Failure != "":
		if info.TriggerType == v1beta1.TriggerManual && r.withinGrace(s, info.TriggerTimestamp, flinkconf.KeyCheckpointGracePeriod) {
			r.event(s, corev1.EventTypeWarning, "CheckpointError", "Checkpoint failed within its trigger grace period, retrying: "+boundedtext.Quote(op.Failure, maxCauseLength))
			return r.triggerCheckpoint(ctx, s, v1beta1.TriggerManual, info.TriggerTimestamp)
		}
		return r.checkpointFailed(ctx, s, info, op.Failure)
	}
	cp := &v1beta1.Checkpoint{TimeStamp: r.now().UnixMilli(), TriggerType: info.TriggerType, FormatType: info.FormatType}
	if info.TriggerType == v1beta1.TriggerManual && s.lastSpec != nil && s.lastSpec.Job != nil {
		cp.TriggerNonce = s.lastSpec.Job.CheckpointTriggerNonce
	}
	info.LastCheckpoint = cp
	info.TriggerID, info.TriggerType, info.FormatType, info.TriggerTimestamp = "", "", "", nil
	s.clear(problem.CheckpointFailed, problem.CheckpointStalled)
	r.event(s, corev1.EventTypeNormal, "CheckpointCompleted", strings.ToLower(string(cp.TriggerType))+" checkpoint completed")
	return r.persist(ctx, s)
}

// checkpointFailed clears a pending checkpoint and reports why it failed.
func (r *Reconciler) checkpointFailed(ctx context.Context, s *state, info *v1beta1.CheckpointInfo, cause string) error {
	kind := info.TriggerType
	info.TriggerID, info.TriggerType, info.FormatType, info.TriggerTimestamp = "", "", "", nil
	s.report(r.snapshotFailure(s, true, kind, cause))
	return r.persist(ctx, s)
}

func lastCheckpoint(st *v1beta1.FlinkDeploymentStatus) *v1beta1.Checkpoint {
	if st.JobStatus.CheckpointInfo == nil {
		return nil
	}
	return st.JobStatus.CheckpointInfo.LastCheckpoint
}
