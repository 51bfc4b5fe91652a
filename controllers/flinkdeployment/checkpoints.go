package flinkdeployment

import (
	"context"
	"errors"
	"strings"

	corev1 "k8s.io/api/core/v1"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/controllers/flinkrest"
	"github.com/flink-hub/flink-hub/controllers/flinkrest/api"
)

const (
	// settingCheckpointType is the operator setting that picks the kind of
	// manual checkpoints: FULL (the default) or INCREMENTAL.
	settingCheckpointType  = "checkpoint.type"
	checkpointFailedPrefix = "checkpoint failed: "
)

// manualCheckpoint triggers a checkpoint when job.checkpointTriggerNonce
// changed, and completes a pending one. As with savepoints, the handled
// nonce and the trigger are persisted together, so a crash never takes it
// twice; a failed trigger is reported and not retried until the nonce
// changes again.
func (r *Reconciler) manualCheckpoint(ctx context.Context, s *state) error {
	st := &s.fd.Status
	if info := st.JobStatus.CheckpointInfo; info != nil && info.TriggerID != "" {
		return r.pollCheckpoint(ctx, s, info)
	}
	if due, err := r.nonceDue(s, func(j *v1beta1.JobSpec) **int64 { return &j.CheckpointTriggerNonce }); err != nil || !due {
		return err
	}
	jm, err := r.JobManagers(s.clusterName, s.cluster.GetConfig(), s.fd)
	if err != nil {
		return err
	}
	kind := checkpointType(&s.fd.Spec)
	trigger, err := jm.TriggerCheckpoint(ctx, st.JobStatus.JobID, flinkrest.CheckpointRequest{Type: api.CheckpointType(kind)})
	if err != nil {
		st.Error = checkpointFailedPrefix + err.Error()
		r.event(s, corev1.EventTypeWarning, "CheckpointError", st.Error)
		return r.persist(ctx, s)
	}
	now := r.now().UnixMilli()
	st.JobStatus.CheckpointInfo = &v1beta1.CheckpointInfo{LastCheckpoint: lastCheckpoint(st),
		TriggerID: trigger, TriggerType: v1beta1.TriggerManual, FormatType: kind, TriggerTimestamp: &now}
	r.event(s, corev1.EventTypeNormal, "CheckpointTriggered", "manual checkpoint triggered")
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	return waiting(errors.New("checkpoint in progress"), r.Options.ProgressCheckInterval)
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
		return waiting(errors.New("checkpoint in progress"), r.Options.ProgressCheckInterval)
	case op.Failure != "":
		return r.checkpointFailed(ctx, s, info, op.Failure)
	}
	cp := &v1beta1.Checkpoint{TimeStamp: r.now().UnixMilli(), TriggerType: info.TriggerType, FormatType: info.FormatType}
	if s.lastSpec != nil && s.lastSpec.Job != nil {
		cp.TriggerNonce = s.lastSpec.Job.CheckpointTriggerNonce
	}
	info.LastCheckpoint = cp
	info.TriggerID, info.TriggerType, info.FormatType, info.TriggerTimestamp = "", "", "", nil
	if strings.HasPrefix(st.Error, checkpointFailedPrefix) {
		st.Error = ""
	}
	r.event(s, corev1.EventTypeNormal, "CheckpointCompleted", "manual checkpoint completed")
	return r.persist(ctx, s)
}

// checkpointFailed clears a pending checkpoint and reports why it failed.
func (r *Reconciler) checkpointFailed(ctx context.Context, s *state, info *v1beta1.CheckpointInfo, cause string) error {
	info.TriggerID, info.TriggerType, info.FormatType, info.TriggerTimestamp = "", "", "", nil
	s.fd.Status.Error = checkpointFailedPrefix + cause
	r.event(s, corev1.EventTypeWarning, "CheckpointError", s.fd.Status.Error)
	return r.persist(ctx, s)
}

// checkpointType is the kind of manual checkpoint the spec asks for.
func checkpointType(spec *v1beta1.FlinkDeploymentSpec) v1beta1.CheckpointType {
	if strings.EqualFold(operatorSetting(spec, settingCheckpointType), string(v1beta1.CheckpointIncremental)) {
		return v1beta1.CheckpointIncremental
	}
	return v1beta1.CheckpointFull
}

func lastCheckpoint(st *v1beta1.FlinkDeploymentStatus) *v1beta1.Checkpoint {
	if st.JobStatus.CheckpointInfo == nil {
		return nil
	}
	return st.JobStatus.CheckpointInfo.LastCheckpoint
}
