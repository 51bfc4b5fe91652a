package flinkdeployment

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/flink-hub/flink-hub/internal/boundedtext"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
	"github.com/flink-hub/flink-hub/internal/problem"
	"github.com/flink-hub/flink-hub/internal/sharding/handoff"
	"github.com/flink-hub/flink-hub/internal/snapshots"
)

// savepointInfo returns the status's savepoint info, made when missing: for
// steps that write to it. A step that only reads uses
// JobStatus.SavepointInfo, nil-safe: making it would change the status,
// and every steady reconcile would write an empty savepointInfo.
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
	if info := s.fd.Status.JobStatus.SavepointInfo; info != nil && info.TriggerID != "" && info.TriggerType != v1beta1.TriggerUpgrade {
		if why := triggerLost(s); why != "" {
			// Asking would fail, and the step (the JobManager's recovery
			// among them) would never run: the trigger is dead.
			kind := info.TriggerType
			info.TriggerID, info.TriggerType, info.TriggerTimestamp = "", "", nil
			r.event(s, corev1.EventTypeWarning, "SavepointError", "Savepoint lost: "+why)
			s.report(r.snapshotFailure(s, false, kind, why+"; its trigger is lost"))
			return r.persist(ctx, s)
		}
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

// ErrSavepointInProgress is the error, wrapped in a waiting one, of a
// savepoint Flink reports still in progress when it is followed: what a
// spec change that does not wait for it
// (kubernetes.operator.job.upgrade.ignore-pending-savepoint) goes ahead
// of, for FlinkDeployments and session jobs alike.
var ErrSavepointInProgress = errors.New("savepoint in progress")

// ReasonSavepointSuperseded is the Warning event of a manual or periodic
// savepoint whose trigger is dropped because an upgrade that went ahead of
// it (SupersededSavepoint) replaces its job.
const ReasonSavepointSuperseded = "SavepointSuperseded"

// SupersededSavepoint is what one last look at the manual or periodic
// savepoint of info says when an upgrade that went ahead of it
// (kubernetes.operator.job.upgrade.ignore-pending-savepoint) is about to
// replace its job (stop it with its own savepoint, cancel it or delete
// its cluster): op and err are Flink's answer for its trigger. A
// savepoint completed is loc, to record as any other; otherwise msg
// says why its trigger is dropped (ReasonSavepointSuperseded): the job
// it is taken of goes, and no later reconcile would follow it. As
// upstream, whose upgrade savepoint resets the trigger.
func SupersededSavepoint(info *v1beta1.SavepointInfo, op flinkrest.OperationStatus, err error) (loc, msg string) {
	if err == nil && op.Done && op.Failure == "" {
		return op.Location, ""
	}
	outcome := "still in progress"
	switch {
	case err != nil:
		outcome = "Flink could not say how it went: " + boundedtext.Quote(err.Error(), maxCauseLength)
	case op.Done:
		outcome = "failed: " + boundedtext.Quote(op.Failure, maxCauseLength)
	}
	return "", fmt.Sprintf("The %s savepoint (trigger %s), %s, is given up: the spec change went ahead of it (%s) and replaces the job, "+
		"so nothing follows it any more; should it still complete, its files are not in the savepoint history",
		strings.ToLower(string(info.TriggerType)), info.TriggerID, outcome, flinkconf.KeyIgnorePendingSavepoint)
}

// supersedePendingSavepoint ends the manual or periodic savepoint still
// pending when the upgrade of a spec change that went ahead of it
// (plan.AheadOfSavepoint) acts on the job (SupersededSavepoint): recorded
// when Flink reports it completed, else its trigger dropped and said; the
// status is persisted before the job is touched. Nothing else has such a
// trigger at that point: a spec change that waits for it (the default)
// never begins with one, and a restart (the spec unchanged) is left as it
// was.
func (r *Reconciler) supersedePendingSavepoint(ctx context.Context, s *state) error {
	st := &s.fd.Status
	if !savepointPending(st) || s.lastSpec == nil || !plan.Changed(&s.fd.Spec, s.lastSpec) {
		return nil
	}
	info := st.JobStatus.SavepointInfo
	var op flinkrest.OperationStatus
	var jm flinkrest.Client
	var err error
	if lost := triggerLost(s); lost != "" {
		err = errors.New(lost)
	} else if jm, err = r.JobManagers(s.clusterName, s.cluster.GetConfig(), s.fd); err == nil {
		op, err = jm.SavepointStatus(ctx, st.JobStatus.JobID, info.TriggerID)
	}
	if loc, msg := SupersededSavepoint(info, op, err); loc != "" {
		r.event(s, corev1.EventTypeNormal, "SavepointCompleted", "Savepoint completed: "+r.completeSavepoint(ctx, s, jm, info, loc))
	} else {
		info.TriggerID, info.TriggerType, info.TriggerTimestamp = "", "", nil
		r.event(s, corev1.EventTypeWarning, ReasonSavepointSuperseded, msg)
	}
	return r.persist(ctx, s)
}

// savepointPending reports a manual or periodic savepoint under way, the
// kind a spec change waits for.
func savepointPending(st *v1beta1.FlinkDeploymentStatus) bool {
	info := st.JobStatus.SavepointInfo
	return info != nil && info.TriggerID != "" && info.TriggerType != v1beta1.TriggerUpgrade
}

// triggerLost says why a pending manual or periodic snapshot can no longer
// complete, as upstream drops the trigger of a job that does not run: the
// JobManager Deployment is missing or not ready; "" while it is ready.
func triggerLost(s *state) string {
	switch st := s.fd.Status.JobManagerDeploymentStatus; {
	case s.jobManager == nil:
		return "the JobManager deployment is missing"
	case st != v1beta1.JobManagerReady:
		return "the JobManager is not ready (" + string(st) + ")"
	}
	return ""
}

// nonceDue reports whether the manual snapshot of a nonce (picked from a
// job spec by nonce) is due: the spec's nonce is set and differs from the
// last reconciled one, and the job runs. When due, the nonce is recorded
// as handled in the last reconciled spec, to be persisted in the same
// write as the trigger. A job that does not run yet gets a progress check;
// its nonce stays pending, since no other step records one
// (plan.WithHandledNonces).
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
	return true, r.recordSpecAs(s, last, st.ReconciliationStatus.State, false)
}

// runningSpec is the spec of the running cluster, whose operator and
// Flink settings govern what the hub does with it (its periodic snapshot
// intervals, savepoint format, health check, history trimming, exception
// reports, Flink version, ...), as upstream reads them from its observe
// configuration, the deployed spec's (plan.DeployedSpec): on a
// rolled-back cluster (ROLLED_BACK) the last stable spec, not the failed
// one recorded as reconciled, so a setting changed on a rolled-back
// resource waits for its next deployment; else the last reconciled spec,
// and the spec before the first deployment.
func runningSpec(s *state) *v1beta1.FlinkDeploymentSpec {
	if s.lastSpec == nil {
		return &s.fd.Spec
	}
	return plan.DeployedSpec(&s.fd.Status, s.lastSpec)
}

// periodicSavepoint triggers a savepoint when the configured interval
// (runningSpec's) has passed since the last periodic one.
func (r *Reconciler) periodicSavepoint(ctx context.Context, s *state) error {
	interval := plan.DurationSetting(runningSpec(s), flinkconf.KeyPeriodicSavepointInterval)
	if interval <= 0 {
		return nil
	}
	st := &s.fd.Status
	info := st.JobStatus.SavepointInfo
	if info == nil {
		info = &v1beta1.SavepointInfo{}
	}
	if st.JobManagerDeploymentStatus != v1beta1.JobManagerReady || st.JobStatus.State != v1beta1.JobRunning || info.TriggerID != "" {
		return nil
	}
	now := r.now()
	if wait := snapshots.PeriodicWait(info.LastPeriodicSavepointTimestamp, st.JobStatus.StartTime, interval, now); wait > 0 {
		s.next = min(s.next, wait)
		return nil
	}
	savepointInfo(st).LastPeriodicSavepointTimestamp = now.UnixMilli()
	return r.triggerSavepoint(ctx, s, v1beta1.TriggerPeriodic, false)
}

// triggerSavepoint starts a savepoint (stopping the job when stop is set).
// The trigger id is the hub's, recorded in status before Flink hears of
// it: a hub that crashes, or loses Flink's answer, after this finds the
// trigger and follows it (Flink's triggers are idempotent by id), so one
// savepoint is taken, never two and never a lost one.
func (r *Reconciler) triggerSavepoint(ctx context.Context, s *state, kind v1beta1.SnapshotTriggerType, stop bool) error {
	info := savepointInfo(&s.fd.Status)
	conf, _ := runningSpec(s).FlatConfiguration()
	format := v1beta1.SavepointFormatCanonical
	if strings.EqualFold(strings.TrimSpace(conf[flinkconf.KeySavepointFormatType]), string(v1beta1.SavepointFormatNative)) {
		format = v1beta1.SavepointFormatNative
	}
	id, err := newTriggerID()
	if err != nil {
		return err
	}
	now := r.now().UnixMilli()
	info.TriggerID, info.TriggerType, info.FormatType, info.TriggerTimestamp = id, kind, format, &now
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	return r.sendSavepoint(ctx, s, info, stop)
}

// retrySavepoint triggers a failed manual savepoint again under a new
// trigger id, keeping the first trigger's time: the grace period counts
// from the first attempt, so retries end.
func (r *Reconciler) retrySavepoint(ctx context.Context, s *state, info *v1beta1.SavepointInfo) error {
	id, err := newTriggerID()
	if err != nil {
		return err
	}
	info.TriggerID = id
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	return r.sendSavepoint(ctx, s, info, false)
}

// sendSavepoint sends the recorded trigger to Flink. An answer that does
// not come (a timeout, a JobManager not reachable) leaves the trigger in
// place to be polled, and sent again should Flink not know it; a refusal
// ends it.
func (r *Reconciler) sendSavepoint(ctx context.Context, s *state, info *v1beta1.SavepointInfo, stop bool) error {
	st := &s.fd.Status
	jm, err := r.JobManagers(s.clusterName, s.cluster.GetConfig(), s.fd)
	if err != nil {
		return err
	}
	conf, _ := s.fd.Spec.FlatConfiguration()
	// The running job's spec says whether it drains, as upstream reads
	// its deployed configuration.
	req := flinkrest.SavepointRequest{TargetDirectory: flinkconf.SavepointsDir(flinkconf.Config(conf).Get), FormatType: api.SavepointFormatType(info.FormatType), TriggerID: info.TriggerID,
		Drain: stop && plan.SettingOn(runningSpec(s), flinkconf.KeyDrainOnSavepoint)}
	if stop {
		_, err = jm.StopWithSavepoint(ctx, st.JobStatus.JobID, req)
	} else {
		_, err = jm.TriggerSavepoint(ctx, st.JobStatus.JobID, req)
	}
	var fe *flinkrest.Error
	switch {
	case err != nil && errors.As(err, &fe) && (fe.Kind == flinkrest.KindTimeout || fe.Kind == flinkrest.KindNotReady):
		r.event(s, corev1.EventTypeWarning, "SavepointUnanswered", fmt.Sprintf("Flink did not answer the %s savepoint trigger %s; following it", info.TriggerType, info.TriggerID))
		return requeue.Waiting(fmt.Errorf("savepoint trigger %s unanswered: %w", info.TriggerID, err), r.Options.ProgressCheckInterval)
	case err != nil:
		kind := info.TriggerType
		info.TriggerID, info.TriggerType, info.TriggerTimestamp = "", "", nil
		s.report(r.snapshotFailure(s, false, kind, err.Error()))
		return r.abortUpgrade(ctx, s, kind, err)
	}
	r.event(s, corev1.EventTypeNormal, "SavepointTriggered", fmt.Sprintf("%s savepoint triggered", info.TriggerType))
	return requeue.Waiting(ErrSavepointInProgress, r.Options.ProgressCheckInterval)
}

// newTriggerID is a random Flink trigger id: 16 bytes in hex.
func newTriggerID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("savepoint trigger id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
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
	if err == nil && op.Done {
		// An upgrade's report of the wait (UpgradeStalled) ends with
		// the step (runStep), which reports a stall that lasts again.
		s.clear(problem.SavepointStalled)
	}
	switch {
	case err != nil:
		var fe *flinkrest.Error
		if errors.As(err, &fe) && fe.Kind == flinkrest.KindNotFound {
			// Flink does not know the trigger. While the job runs, the
			// trigger never reached it (the hub stopped between recording
			// and sending, or the request was lost) or the savepoint ended
			// without stopping the job: send it again, same id.
			if st.JobStatus.State == v1beta1.JobRunning && st.JobManagerDeploymentStatus == v1beta1.JobManagerReady {
				return "", r.sendSavepoint(ctx, s, info, kind == v1beta1.TriggerUpgrade)
			}
			// The job stopped: a stop-with-savepoint that completed after
			// Flink forgot its trigger. Its path is in the job's
			// checkpoint statistics.
			if loc := RecoverSavepoint(ctx, jm, st.JobStatus.JobID, info); loc != "" {
				r.event(s, corev1.EventTypeNormal, "SavepointRecovered", "Flink forgot savepoint trigger "+info.TriggerID+"; found its savepoint in the job's checkpoint statistics: "+loc)
				return r.completeSavepoint(ctx, s, jm, info, loc), nil
			}
			info.TriggerID = ""
			s.report(r.snapshotFailure(s, false, kind, "the JobManager no longer knows the savepoint trigger"))
			return "", r.abortUpgrade(ctx, s, kind, err)
		}
		return "", err
	case !op.Done:
		if p := r.snapshotStalled(s, false, info.TriggerType, info.TriggerTimestamp); !p.IsZero() {
			s.report(p)
		}
		return "", requeue.Waiting(ErrSavepointInProgress, r.Options.ProgressCheckInterval)
	case op.Failure != "":
		if kind == v1beta1.TriggerManual && r.withinGrace(s, info.TriggerTimestamp, flinkconf.KeySavepointGracePeriod) {
			r.event(s, corev1.EventTypeWarning, "SavepointError", "Savepoint failed within its trigger grace period, retrying: "+boundedtext.Quote(op.Failure, maxCauseLength))
			return "", r.retrySavepoint(ctx, s, info)
		}
		info.TriggerID = ""
		s.report(r.snapshotFailure(s, false, kind, op.Failure))
		return "", r.abortUpgrade(ctx, s, kind, errors.New(op.Failure))
	}
	return r.completeSavepoint(ctx, s, jm, info, op.Location), nil
}

// completeSavepoint records the savepoint at loc as the last one and in the
// history, ends the trigger, and returns loc.
func (r *Reconciler) completeSavepoint(ctx context.Context, s *state, jm flinkrest.Client, info *v1beta1.SavepointInfo, loc string) string {
	kind := info.TriggerType
	sp := v1beta1.Savepoint{TimeStamp: r.now().UnixMilli(), Location: loc, TriggerType: kind, FormatType: info.FormatType}
	if kind == v1beta1.TriggerManual && s.lastSpec != nil && s.lastSpec.Job != nil {
		sp.TriggerNonce = s.lastSpec.Job.SavepointTriggerNonce
	}
	info.LastSavepoint = &sp
	trimmed := snapshots.Trim(ctx, append(info.SavepointHistory, sp), s.setting, r.now(), DisposeWith(jm),
		loc, s.fd.Status.JobStatus.UpgradeSavepointPath, plan.InitialSavepoint(&s.fd.Spec))
	info.SavepointHistory = trimmed.Kept
	ReportDisposals(func(eventType, reason, msg string) { r.event(s, eventType, reason, msg) }, trimmed)
	// Snapshot resources are written only once the fenced status write
	// that records the savepoint went through: a replica that lost the
	// key meanwhile writes nothing.
	s.afterWrite = append(s.afterWrite, func(ctx context.Context) {
		ForgetSnapshots(ctx, s.cluster.GetClient(), s.fd, trimmed.Dropped(), r.snapshotWarning(s))
		RecordSnapshot(ctx, s.cluster.GetClient(), s.fd, v1beta1.JobKindFlinkDeployment, sp, s.setting, r.snapshotWarning(s))
	})
	info.TriggerID, info.TriggerType, info.TriggerTimestamp = "", "", nil
	s.clear(problem.SavepointFailed)
	return loc
}

// trimHistory drops the savepoints past the history's count and age (and
// disposes of them) while the job runs steady, not only when a savepoint
// completes: upstream's observer trims every reconcile. Flink is asked only
// when something is due; a disposal that fails stays in the history,
// reported, and is tried again at a later reconcile.
func (r *Reconciler) trimHistory(ctx context.Context, s *state) {
	info := s.fd.Status.JobStatus.SavepointInfo
	if info == nil || len(info.SavepointHistory) == 0 || len(snapshots.TrimHistory(info.SavepointHistory, s.setting, r.now())) == len(info.SavepointHistory) {
		return
	}
	jm, err := r.JobManagers(s.clusterName, s.cluster.GetConfig(), s.fd)
	if err != nil {
		return
	}
	last := ""
	if info.LastSavepoint != nil {
		last = info.LastSavepoint.Location
	}
	trimmed := snapshots.Trim(ctx, info.SavepointHistory, s.setting, r.now(), DisposeWith(jm),
		last, s.fd.Status.JobStatus.UpgradeSavepointPath, plan.InitialSavepoint(&s.fd.Spec))
	info.SavepointHistory = trimmed.Kept
	ReportDisposals(func(eventType, reason, msg string) { r.event(s, eventType, reason, msg) }, trimmed)
	s.afterWrite = append(s.afterWrite, func(ctx context.Context) {
		ForgetSnapshots(ctx, s.cluster.GetClient(), s.fd, trimmed.Dropped(), r.snapshotWarning(s))
	})
}

// disposalWait bounds how long a disposal is followed, and disposalPoll
// is how often: Flink deletes a savepoint's files asynchronously, and a
// disposal that fails (files not found, access denied) fails quickly.
const (
	disposalWait = 10 * time.Second
	disposalPoll = 200 * time.Millisecond
)

// DisposeWith disposes of savepoints through the JobManager jm and
// follows each disposal for up to disposalWait: one Flink reports failed
// is an error (the caller keeps the savepoint, reports it and tries again),
// except one that found no file at the path (FileNotFoundException: the
// savepoint's files are gone already), which wraps snapshots.ErrGone; one
// still under way then is left to Flink.
func DisposeWith(jm flinkrest.Client) snapshots.Disposer {
	return func(ctx context.Context, path string) error {
		// Deleting files cannot be taken back, and trimming runs before the
		// fenced status write: a replica that lost the key disposes of
		// nothing (the savepoint stays in the history it cannot write).
		if err := handoff.CheckOwned(ctx); err != nil {
			return err
		}
		id, err := jm.DisposeSavepoint(ctx, path)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, disposalWait)
		defer cancel()
		for {
			st, err := jm.DisposalStatus(ctx, id)
			if err == nil && st.Done {
				return disposalResult(path, st)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(disposalPoll):
			}
		}
	}
}

// fileNotFound is the exception Flink's disposal fails with when nothing
// is at the savepoint's path (resolving the checkpoint pointer).
const fileNotFound = "java.io.FileNotFoundException"

// disposalResult is the error of the completed disposal st of path: nil
// for a success, one wrapping snapshots.ErrGone when Flink found nothing
// at the path.
func disposalResult(path string, st flinkrest.OperationStatus) error {
	switch {
	case st.Failure == "":
		return nil
	case st.FailedWith(fileNotFound):
		return fmt.Errorf("%w (Flink's disposal of %s: %s)", snapshots.ErrGone, path, st.Failure)
	}
	return fmt.Errorf("disposal of %s failed: %s", path, st.Failure)
}

// ReportDisposals records what trimming the savepoint history disposed of,
// the savepoints dropped whose files were gone already, and the
// disposals that failed (tried again at the next trim).
func ReportDisposals(event func(eventType, reason, msg string), t snapshots.Trimmed) {
	if len(t.Disposed) > 0 {
		event(corev1.EventTypeNormal, "SavepointsDisposed", "savepoints dropped from the history disposed of: "+strings.Join(t.Disposed, ", "))
	}
	if len(t.Gone) > 0 {
		event(corev1.EventTypeWarning, "SavepointsGone", "savepoints dropped from the history without disposal, their files gone already: "+errors.Join(t.Gone...).Error())
	}
	if len(t.Failed) > 0 {
		event(corev1.EventTypeWarning, "SavepointDisposalFailed", errors.Join(t.Failed...).Error()+"; kept in the history and tried again later")
	}
}

// triggerClockSkew is how much earlier than the hub's trigger time Flink's
// clock may date the savepoint the trigger started.
const triggerClockSkew = time.Minute

// RecoverSavepoint finds the savepoint a forgotten trigger took: the job's
// latest savepoint in Flink's checkpoint statistics, if it was triggered
// after the trigger was recorded and is none the hub knows already. It
// returns "" when there is none or Flink cannot say.
func RecoverSavepoint(ctx context.Context, jm flinkrest.Client, jobID string, info *v1beta1.SavepointInfo) string {
	if jobID == "" || info.TriggerTimestamp == nil {
		return ""
	}
	stats, err := jm.CheckpointStatistics(ctx, jobID)
	if err != nil {
		return ""
	}
	latest := stats.Latest.Savepoint
	if !latest.IsSavepoint || latest.ExternalPath == "" || latest.Status != api.CheckpointStatsStatusCOMPLETED {
		return ""
	}
	if time.UnixMilli(latest.TriggerTimestamp).Before(time.UnixMilli(*info.TriggerTimestamp).Add(-triggerClockSkew)) {
		return ""
	}
	for _, known := range info.SavepointHistory {
		if known.Location == latest.ExternalPath {
			return ""
		}
	}
	return latest.ExternalPath
}

// snapshotFailure is the problem of a savepoint, or a checkpoint, of
// kind that failed with cause (snapshots.Failed): how many failed in a
// row, counted on from the problem status.error holds (a completed one or
// a deployment ends it), and when the hub tries again.
func (r *Reconciler) snapshotFailure(s *state, checkpoint bool, kind v1beta1.SnapshotTriggerType, cause string) problem.Problem {
	return snapshots.Failed(s.problem, r.snapshotAttempt(s, checkpoint, kind), cause)
}

// snapshotAttempt is a savepoint, or a checkpoint, of kind that failed
// now, as its report and its retry need it.
func (r *Reconciler) snapshotAttempt(s *state, checkpoint bool, kind v1beta1.SnapshotTriggerType) snapshots.Attempt {
	return snapshots.Attempt{Checkpoint: checkpoint, Trigger: kind, Deletion: !s.fd.DeletionTimestamp.IsZero(),
		Now: r.now(), ReconcileInterval: r.Options.ReconcileInterval, Setting: s.setting, Job: &s.fd.Status.JobStatus}
}

// abortUpgrade ends an upgrade whose savepoint failed: the old job keeps
// running, the error stays in status, and the savepoint is taken again
// when the report says (snapshots.Attempt.RetryAfter: the reconcile
// interval, or a periodic one's next period). The upgrade returns to the
// state it began from (upgradeAborted), as upstream, whose failed
// stop-with-savepoint leaves the status as it was: a rolled-back cluster
// stays ROLLED_BACK, else the spec that failed would be marked stable.
func (r *Reconciler) abortUpgrade(ctx context.Context, s *state, kind v1beta1.SnapshotTriggerType, cause error) error {
	if st := &s.fd.Status; kind == v1beta1.TriggerUpgrade && st.ReconciliationStatus.State == v1beta1.ReconciliationUpgrading {
		upgradeAborted(st)
	}
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	return requeue.Waiting(cause, r.snapshotAttempt(s, false, kind).RetryAfter())
}

// withinGrace reports whether a manual snapshot triggered at triggered
// (epoch milliseconds) failed within the grace period of key in the
// running spec (snapshots.WithinGrace): it is triggered again.
func (r *Reconciler) withinGrace(s *state, triggered *int64, key string) bool {
	spec := runningSpec(s)
	return snapshots.WithinGrace(func(k string) string { return plan.OperatorSetting(spec, k) }, key, triggered, r.now())
}

// snapshotStalled reports, once the savepoint (or, checkpoint set, the
// checkpoint) triggered as trigger at triggered has been in progress
// longer than Flink's execution.checkpointing.timeout (which should have
// failed it) and one more look, why it still holds what waits for it
// (SnapshotWait names both); a zero problem before.
func (r *Reconciler) snapshotStalled(s *state, checkpoint bool, trigger v1beta1.SnapshotTriggerType, triggered *int64) problem.Problem {
	if triggered == nil {
		return problem.Problem{}
	}
	start := time.UnixMilli(*triggered)
	_, timeout, stalled := flinkconf.SnapshotStalled(plan.DurationSetting(runningSpec(s), flinkconf.KeyCheckpointTimeout), start, r.now(), r.Options.ProgressCheckInterval)
	if !stalled {
		return problem.Problem{}
	}
	// An upgrade waits on it once begun, or while its spec change is held
	// for it.
	upgrading := s.fd.Status.ReconciliationStatus.State == v1beta1.ReconciliationUpgrading || (s.lastSpec != nil && plan.Changed(&s.fd.Spec, s.lastSpec))
	reason, what := SnapshotWait(checkpoint, trigger, !s.fd.DeletionTimestamp.IsZero(), upgrading)
	return problem.New(reason, SnapshotStalledText(what, start, timeout))
}

// SnapshotWait names, for a stall report, a pending savepoint (or,
// checkpoint set, checkpoint) triggered as trigger and what waits on it,
// with the report's reason, the same for FlinkDeployments and session
// jobs: the deletion's stop-with-savepoint (deleting) is SavepointStalled,
// an upgrade's own stop-with-savepoint or a snapshot an upgrade waits for
// (upgrading) is UpgradeStalled, as an upgrade's cancellation is, and any
// other SavepointStalled or CheckpointStalled.
func SnapshotWait(checkpoint bool, trigger v1beta1.SnapshotTriggerType, deleting, upgrading bool) (problem.Reason, string) {
	kind, alone := " savepoint", problem.SavepointStalled
	if checkpoint {
		kind, alone = " checkpoint", problem.CheckpointStalled
	}
	switch {
	case !checkpoint && deleting && trigger == v1beta1.TriggerUpgrade:
		return problem.SavepointStalled, "the stop-with-savepoint for the deletion"
	case !checkpoint && trigger == v1beta1.TriggerUpgrade:
		return problem.UpgradeStalled, "the upgrade's stop-with-savepoint"
	case upgrading && !deleting:
		return problem.UpgradeStalled, "the " + strings.ToLower(string(trigger)) + kind + " the upgrade waits for"
	}
	return alone, "the " + strings.ToLower(string(trigger)) + kind
}

// SnapshotStalledText is the report of what (a savepoint or checkpoint,
// named for the user) in progress since start longer than Flink's
// execution.checkpointing.timeout, timeout, which should have ended it.
// It does not change while the wait lasts: one status write.
func SnapshotStalledText(what string, start time.Time, timeout time.Duration) string {
	return fmt.Sprintf("%s in progress since %s, longer than Flink's %s (%s), which should have ended it; the hub keeps following it: look at the job's checkpoints in Flink",
		what, start.UTC().Format(time.RFC3339), flinkconf.KeyCheckpointTimeout, timeout)
}
