package flinkdeployment

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/controllers/flinkconf"
	"github.com/flink-hub/flink-hub/controllers/flinkrest"
	"github.com/flink-hub/flink-hub/controllers/flinkrest/api"
)

const (
	defaultHistoryMaxCount = 10
	defaultHistoryMaxAge   = 24 * time.Hour
	savepointFailedPrefix  = "savepoint failed: "
)

func savepointInfo(st *v1beta1.FlinkDeploymentStatus) *v1beta1.SavepointInfo {
	if st.JobStatus.SavepointInfo == nil {
		st.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{}
	}
	return st.JobStatus.SavepointInfo
}

// manualSavepoint triggers a savepoint when job.savepointTriggerNonce
// changed, and completes a pending manual or periodic one. The trigger and
// the new nonce are persisted together, so a crash never takes it twice.
func (r *Reconciler) manualSavepoint(ctx context.Context, s *state) error {
	st := &s.fd.Status
	info := savepointInfo(st)
	if info.TriggerID != "" && info.TriggerType != v1beta1.TriggerUpgrade {
		loc, err := r.pollSavepoint(ctx, s, info)
		if err != nil {
			return err
		}
		r.event(s, corev1.EventTypeNormal, "SavepointCompleted", "Savepoint completed: "+loc)
		return r.persist(ctx, s)
	}
	if due, err := r.nonceDue(s, func(j *v1beta1.JobSpec) **int64 { return &j.SavepointTriggerNonce }); err != nil || !due {
		return err
	}
	return r.triggerSavepoint(ctx, s, v1beta1.TriggerManual, false)
}

// nonceDue reports whether the manual snapshot of a nonce (picked from a
// job spec by nonce) is due: the spec's nonce is set and differs from the
// last reconciled one, and the job runs. When due, the nonce is recorded
// as handled in the last reconciled spec, to be persisted in the same
// write as the trigger. A job that does not run yet gets a progress check.
func (r *Reconciler) nonceDue(s *state, nonce func(*v1beta1.JobSpec) **int64) (bool, error) {
	spec, st := s.fd.Spec.Job, &s.fd.Status
	if spec == nil || s.lastSpec == nil || s.lastSpec.Job == nil {
		return false, nil
	}
	want := *nonce(spec)
	if want == nil || v1beta1.EqualNonce(want, *nonce(s.lastSpec.Job)) {
		return false, nil
	}
	if st.JobManagerDeploymentStatus != v1beta1.JobManagerReady || st.JobStatus.State != v1beta1.JobRunning {
		s.next = r.Options.ProgressCheckInterval
		return false, nil // taken once the job runs
	}
	last := s.lastSpec.DeepCopy()
	*nonce(last.Job) = want
	return true, r.recordSpecAs(s, last, st.ReconciliationStatus.State)
}

// periodicSavepoint triggers a savepoint when the configured interval has
// passed since the last periodic one.
func (r *Reconciler) periodicSavepoint(ctx context.Context, s *state) error {
	interval := durationSetting(&s.fd.Spec, flinkconf.KeyPeriodicSavepointInterval)
	if interval <= 0 {
		return nil
	}
	st := &s.fd.Status
	info := savepointInfo(st)
	if st.JobManagerDeploymentStatus != v1beta1.JobManagerReady || st.JobStatus.State != v1beta1.JobRunning || info.TriggerID != "" {
		return nil
	}
	now := r.now()
	if wait := periodicWait(info.LastPeriodicSavepointTimestamp, st.JobStatus.StartTime, interval, now); wait > 0 {
		s.next = min(s.next, wait)
		return nil
	}
	info.LastPeriodicSavepointTimestamp = now.UnixMilli()
	return r.triggerSavepoint(ctx, s, v1beta1.TriggerPeriodic, false)
}

// periodicWait is how long until the next periodic snapshot is due: an
// interval after the last one (lastMillis, epoch milliseconds), or after the
// job's start (jobStart, as status.jobStatus.startTime) before the first;
// zero or less when due.
func periodicWait(lastMillis int64, jobStart string, interval time.Duration, now time.Time) time.Duration {
	last := time.UnixMilli(lastMillis)
	if lastMillis == 0 {
		// Count the interval from the job's start, not from 1970.
		if ms, err := strconv.ParseInt(jobStart, 10, 64); err == nil {
			last = time.UnixMilli(ms)
		}
	}
	return last.Add(interval).Sub(now)
}

// triggerSavepoint starts a savepoint (stopping the job when stop is set)
// and persists its trigger id before anything else happens.
func (r *Reconciler) triggerSavepoint(ctx context.Context, s *state, kind v1beta1.SnapshotTriggerType, stop bool) error {
	st := &s.fd.Status
	info := savepointInfo(st)
	jm, err := r.JobManagers(s.clusterName, s.cluster.GetConfig(), s.fd)
	if err != nil {
		return err
	}
	conf, _ := s.fd.Spec.FlatConfiguration()
	format := v1beta1.SavepointFormatCanonical
	if strings.EqualFold(strings.TrimSpace(conf[flinkconf.KeySavepointFormatType]), string(v1beta1.SavepointFormatNative)) {
		format = v1beta1.SavepointFormatNative
	}
	req := flinkrest.SavepointRequest{TargetDirectory: conf[flinkconf.KeySavepointsDir], FormatType: api.SavepointFormatType(format)}
	var trigger string
	if stop {
		trigger, err = jm.StopWithSavepoint(ctx, st.JobStatus.JobID, req)
	} else {
		trigger, err = jm.TriggerSavepoint(ctx, st.JobStatus.JobID, req)
	}
	if err != nil {
		st.Error = savepointFailedPrefix + err.Error()
		r.event(s, corev1.EventTypeWarning, "SavepointError", st.Error)
		return r.abortUpgrade(ctx, s, kind, err)
	}
	now := r.now().UnixMilli()
	info.TriggerID, info.TriggerType, info.FormatType, info.TriggerTimestamp = trigger, kind, format, &now
	r.event(s, corev1.EventTypeNormal, "SavepointTriggered", fmt.Sprintf("%s savepoint triggered", kind))
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	return waiting(errors.New("savepoint in progress"), r.Options.ProgressCheckInterval)
}

// pollSavepoint checks a pending savepoint. It returns the location once
// done, recording it as the last savepoint and in the history; a waiting
// error while in progress; and on failure clears the trigger and reports.
func (r *Reconciler) pollSavepoint(ctx context.Context, s *state, info *v1beta1.SavepointInfo) (string, error) {
	st := &s.fd.Status
	jm, err := r.JobManagers(s.clusterName, s.cluster.GetConfig(), s.fd)
	if err != nil {
		return "", err
	}
	op, err := jm.SavepointStatus(ctx, st.JobStatus.JobID, info.TriggerID)
	kind := info.TriggerType
	switch {
	case err != nil:
		var fe *flinkrest.Error
		if errors.As(err, &fe) && fe.Kind == flinkrest.KindNotFound {
			// The JobManager forgot the trigger (it restarted): the
			// savepoint is lost, report and allow a retry.
			info.TriggerID = ""
			st.Error = savepointFailedPrefix + "the JobManager no longer knows the savepoint trigger"
			r.event(s, corev1.EventTypeWarning, "SavepointError", st.Error)
			return "", r.abortUpgrade(ctx, s, kind, err)
		}
		return "", err
	case !op.Done:
		return "", waiting(errors.New("savepoint in progress"), r.Options.ProgressCheckInterval)
	case op.Failure != "":
		info.TriggerID = ""
		st.Error = savepointFailedPrefix + op.Failure
		r.event(s, corev1.EventTypeWarning, "SavepointError", st.Error)
		return "", r.abortUpgrade(ctx, s, kind, errors.New(op.Failure))
	}
	sp := v1beta1.Savepoint{TimeStamp: r.now().UnixMilli(), Location: op.Location, TriggerType: kind, FormatType: info.FormatType}
	if kind == v1beta1.TriggerManual && s.lastSpec != nil && s.lastSpec.Job != nil {
		sp.TriggerNonce = s.lastSpec.Job.SavepointTriggerNonce
	}
	info.LastSavepoint = &sp
	info.SavepointHistory = trimHistory(append(info.SavepointHistory, sp), &s.fd.Spec, r.now())
	info.TriggerID, info.TriggerType, info.TriggerTimestamp = "", "", nil
	if isSavepointError(st.Error) {
		st.Error = ""
	}
	return op.Location, nil
}

// abortUpgrade ends an upgrade whose savepoint failed: the old job keeps
// running, the error stays in status, and the upgrade is retried after the
// reconcile interval.
func (r *Reconciler) abortUpgrade(ctx context.Context, s *state, kind v1beta1.SnapshotTriggerType, cause error) error {
	if kind == v1beta1.TriggerUpgrade {
		s.fd.Status.ReconciliationStatus.State = v1beta1.ReconciliationDeployed
	}
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	return waiting(cause, r.Options.ReconcileInterval)
}

// retryBlocked reports how long a failed upgrade savepoint still holds
// back the next attempt.
func (r *Reconciler) retryBlocked(st *v1beta1.FlinkDeploymentStatus) time.Duration {
	info := st.JobStatus.SavepointInfo
	if !isSavepointError(st.Error) || info == nil || info.TriggerTimestamp == nil {
		return 0
	}
	return time.UnixMilli(*info.TriggerTimestamp).Add(r.Options.ReconcileInterval).Sub(r.now())
}

func isSavepointError(msg string) bool {
	return len(msg) >= len(savepointFailedPrefix) && msg[:len(savepointFailedPrefix)] == savepointFailedPrefix
}

// trimHistory keeps the savepoint history to the configured count and age.
func trimHistory(history []v1beta1.Savepoint, spec *v1beta1.FlinkDeploymentSpec, now time.Time) []v1beta1.Savepoint {
	maxCount := defaultHistoryMaxCount
	if n, err := strconv.Atoi(strings.TrimSpace(operatorSetting(spec, flinkconf.KeySavepointHistoryMaxCount))); err == nil && n >= 0 {
		maxCount = n
	}
	maxAge := defaultHistoryMaxAge
	if d := durationSetting(spec, flinkconf.KeySavepointHistoryMaxAge); d > 0 {
		maxAge = d
	}
	out := history[:0:0]
	for _, sp := range history {
		if now.Sub(time.UnixMilli(sp.TimeStamp)) <= maxAge {
			out = append(out, sp)
		}
	}
	if len(out) > maxCount {
		out = out[len(out)-maxCount:]
	}
	return out
}
