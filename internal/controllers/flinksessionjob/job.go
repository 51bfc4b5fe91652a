package flinksessionjob

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/boundedtext"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/controllers/memberkind"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/deadline"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
	"github.com/flink-hub/flink-hub/internal/jarfetch"
	"github.com/flink-hub/flink-hub/internal/launcherjar"
	"github.com/flink-hub/flink-hub/internal/problem"
	"github.com/flink-hub/flink-hub/internal/snapshots"
)

// observe reads the job the status names from the session cluster; a job
// the cluster does not know is jobMissing's.
func (r *Reconciler) observe(ctx context.Context, s *state, jm flinkrest.Client) error {
	js := &s.job.Status.JobStatus
	if js.JobID == "" {
		return nil
	}
	job, err := jm.JobDetails(ctx, js.JobID)
	switch {
	case flinkrest.IsNotFound(err):
		s.missing = true
		r.jobMissing(s)
		return nil
	case err != nil:
		return fmt.Errorf("read job %s: %w", js.JobID, err)
	}
	state := v1beta1.JobStatusState(job.State)
	if state != js.State {
		if from := js.State; from != "" {
			// Said once the fenced status write recorded it.
			s.afterWrite = append(s.afterWrite, func(context.Context) {
				eventType, msg := flinkdeployment.JobStatusChange(from, state)
				r.event(s, eventType, flinkdeployment.ReasonJobStatusChanged, msg)
			})
		}
		js.State = state
		js.UpdateTime = strconv.FormatInt(r.now().UnixMilli(), 10)
	}
	js.JobName = job.Name
	if job.StartTime > 0 {
		js.StartTime = strconv.FormatInt(job.StartTime, 10)
	}
	if state == v1beta1.JobFailed && !s.problem.Is(problem.JobFailed) {
		// Once per failure, with Flink's cause, as for FlinkDeployments.
		exceptions, err := jm.Exceptions(ctx, js.JobID)
		s.problem = problem.WithTrace(problem.New(problem.JobFailed, "Job failed: "+flinkdeployment.FailureCause(exceptions, err)), flinkdeployment.FailureTrace(exceptions))
	} else if state != v1beta1.JobFailed {
		s.problem = clearProblem(s.problem, problem.JobFailed, problem.ReconcileFailed, problem.JobResultGone)
	}
	return nil
}

// jobMissing handles a job the session cluster does not know. One the
// status says was submitted (RECONCILING) never arrived: it is submitted
// again, under the same id. One that ended (FINISHED, FAILED, CANCELED,
// SUSPENDED) and that the cluster forgot since (a JobManager restart
// without HA, its job store expiring) keeps its state: it is never run
// again, so a batch job's work is not done twice. One that ran and was
// lost with the JobManager goes back to RECONCILING to be submitted again,
// same id, from the newest savepoint known unless stateless; an event
// says so.
func (r *Reconciler) jobMissing(s *state) {
	js := &s.job.Status.JobStatus
	from := js.State
	switch {
	case from == v1beta1.JobReconciling || !running(from):
		return
	case from == "":
		js.State = v1beta1.JobReconciling
		return
	}
	if s.last != nil && upgradeMode(s.last) != v1beta1.UpgradeModeStateless {
		js.UpgradeSavepointPath = plan.NewestRestorePoint(js, s.job.Status.ReconciliationStatus.ReconciliationTimestamp)
	}
	js.State, js.UpdateTime = v1beta1.JobReconciling, strconv.FormatInt(r.now().UnixMilli(), 10)
	msg := fmt.Sprintf("Session cluster %s no longer knows job %s (was %s): it is submitted again under the same id%s", s.job.Spec.DeploymentName, js.JobID, from, fromText(js.UpgradeSavepointPath))
	s.afterWrite = append(s.afterWrite, func(context.Context) { r.event(s, "Warning", "Missing", msg) })
}

// clearProblem is p, or none when p has one of reasons.
func clearProblem(p problem.Problem, reasons ...problem.Reason) problem.Problem {
	if p.Is(reasons...) {
		return problem.Problem{}
	}
	return p
}

// reconcileSpec brings the job to the spec: the first submission, a
// submission that never arrived, suspend, resume, or an upgrade (stop by
// the upgrade mode, then submit), each decided from the status alone.
func (r *Reconciler) reconcileSpec(ctx context.Context, s *state, jm flinkrest.Client) error {
	st, spec := &s.job.Status, &s.job.Spec
	s.next = r.Options.ReconcileInterval
	// A wait reported as stalled reports itself again while it lasts.
	s.problem = clearProblem(s.problem, stallReasons...)
	switch {
	case s.last == nil && suspended(spec):
		return r.record(s, true)
	case s.last == nil:
		st.JobStatus.UpgradeSavepointPath = spec.Job.InitialSavepointPath
		return r.submit(ctx, s, jm, true)
	case st.ReconciliationStatus.State == v1beta1.ReconciliationUpgrading:
		return r.continueUpgrade(ctx, s, jm)
	case suspended(s.last) && redeploying(s):
		// As upstream checks a savepoint redeploy first: the suspended job
		// records job.initialSavepointPath for its resume, and a resume
		// starts from it, not from the suspend's savepoint.
		return r.redeploy(ctx, s, jm)
	case suspended(s.last) && suspended(spec):
		if differs(spec, s.last) {
			return r.record(s, false)
		}
		seen(s) // a snapshot nonce alone: pending until the job runs
		return nil
	case suspended(s.last):
		return r.submit(ctx, s, jm, false) // resume, from the savepoint the suspend took
	case !suspended(spec) && overridesOnly(spec, s.last):
		return r.rescale(ctx, s, jm)
	case changed(spec, s.last) || suspended(spec):
		return r.beginUpgrade(ctx, s, jm, "")
	case s.missing && s.problem.Is(problem.JobResultGone):
		return nil // ended unseen: never run again
	case s.missing && st.JobStatus.State == v1beta1.JobReconciling:
		return r.run(ctx, s, jm) // recorded, never arrived (or lost)
	case differs(spec, s.last):
		// Nothing to restart for (operator settings, the upgrade mode):
		// recorded; the snapshots below go on.
		if err := r.recordWithoutRestart(s); err != nil {
			return err
		}
	}
	if busy, err := r.snapshots(ctx, s, jm); busy || err != nil {
		return err
	}
	// All the spec asks is recorded, or is a snapshot nonce that waits
	// for the job to run.
	seen(s)
	if st.JobStatus.State != v1beta1.JobRunning {
		s.next = r.Options.ProgressCheckInterval
	}
	return nil
}

// beginUpgrade marks the upgrade (or suspend) under way, says so in a
// SpecChanged event (with why a parallelism overrides change was not made
// in place, when notInPlace says), persists it and goes on with it.
func (r *Reconciler) beginUpgrade(ctx context.Context, s *state, jm flinkrest.Client, notInPlace string) error {
	s.job.Status.ReconciliationStatus.State = v1beta1.ReconciliationUpgrading
	s.problem = clearProblem(s.problem, problem.JobResultGone) // the new spec is the subject now
	msg := specChangedText(s)
	if notInPlace != "" {
		msg += "; its parallelism overrides change was not made in place: " + notInPlace
	}
	r.event(s, "Normal", "SpecChanged", msg)
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	return r.continueUpgrade(ctx, s, jm)
}

// continueUpgrade stops the old job by the upgrade mode, then submits the
// new spec or, for a suspend, records it.
func (r *Reconciler) continueUpgrade(ctx context.Context, s *state, jm flinkrest.Client) error {
	st, spec := &s.job.Status, &s.job.Spec
	if err := r.followPendingSavepoint(ctx, s, jm); err != nil {
		return err
	}
	if info := st.JobStatus.SavepointInfo; info != nil && info.TriggerID != "" && info.TriggerType == v1beta1.TriggerUpgrade {
		// The job stops with the savepoint: follow it to its path, whatever
		// state the job shows meanwhile.
		if err := r.pollStop(ctx, s, jm); err != nil {
			return err
		}
	}
	if running(st.JobStatus.State) && st.JobStatus.JobID != "" && !s.missing {
		return r.stop(ctx, s, jm)
	}
	if redeploying(s) {
		return r.redeploy(ctx, s, jm)
	}
	fromLatest := endedWithState(s)
	if fromLatest {
		if err := r.recordLatestState(ctx, s, jm); err != nil {
			return err
		}
	}
	if upgradeMode(spec) == v1beta1.UpgradeModeStateless {
		st.JobStatus.UpgradeSavepointPath = ""
	}
	if suspended(spec) {
		st.JobStatus.State = v1beta1.JobSuspended
		r.event(s, "Normal", "Suspended", "Job suspended"+savedText(st.JobStatus.UpgradeSavepointPath))
		return r.record(s, false)
	}
	if upgradeMode(spec) != v1beta1.UpgradeModeStateless && !fromLatest {
		// Not running and not ended (an ended job's latest state was
		// recorded above): the cluster does not know it (never arrived, or
		// lost while it ran), so it has no state to wait for and starts
		// from the newest savepoint known, a periodic one taken since the
		// path the job started from included, if any. Without a job id
		// and nothing known, the user says.
		if from := plan.NewestRestorePoint(&st.JobStatus, st.ReconciliationStatus.ReconciliationTimestamp); from != "" || s.missing {
			st.JobStatus.UpgradeSavepointPath = from
		} else {
			s.problem = problem.New(problem.UpgradeBlocked, fmt.Sprintf("cannot upgrade with a savepoint: the job is %s and no savepoint of it was taken; "+
				"set job.upgradeMode to stateless to start the new spec without state", st.JobStatus.State))
			return requeue.Waiting(errors.New("upgrade blocked"), r.Options.ReconcileInterval)
		}
	}
	s.problem = clearProblem(s.problem, problem.UpgradeBlocked)
	return r.submit(ctx, s, jm, false)
}

// followPendingSavepoint follows a manual or periodic savepoint in flight
// when an upgrade starts to its end, recorded in the history (and so
// trimmed and disposed of in its turn), before the upgrade's trigger takes
// its place. One of a job the session cluster does not know never comes.
// With kubernetes.operator.job.upgrade.ignore-pending-savepoint (the
// job's configuration, else its session cluster's, else the member's
// default), as upstream's readyToReconcile and a FlinkDeployment's
// plan.AheadOfSavepoint, it is looked at once and not waited for: still in
// progress, the change goes ahead, and the upgrade gives it up when it
// stops the job (supersedePendingSavepoint).
func (r *Reconciler) followPendingSavepoint(ctx context.Context, s *state, jm flinkrest.Client) error {
	info := s.job.Status.JobStatus.SavepointInfo
	switch {
	case !savepointPending(s):
		return nil
	case s.missing:
		info.TriggerID, info.TriggerType, info.TriggerTimestamp = "", "", nil
		return nil
	}
	kind := info.TriggerType
	loc, err := r.pollSavepoint(ctx, s, jm)
	if err == nil {
		r.event(s, "Normal", "SavepointCompleted", strings.ToLower(string(kind))+" savepoint completed: "+loc)
	}
	if ahead, _ := flinkconf.Bool(s.setting(flinkconf.KeyIgnorePendingSavepoint)); ahead && errors.Is(err, flinkdeployment.ErrSavepointInProgress) {
		return nil
	}
	return err
}

// savepointPending reports a manual or periodic savepoint under way.
func savepointPending(s *state) bool {
	info := s.job.Status.JobStatus.SavepointInfo
	return info != nil && info.TriggerID != "" && info.TriggerType != v1beta1.TriggerUpgrade
}

// supersedePendingSavepoint ends the manual or periodic savepoint still
// pending when the upgrade, gone ahead of it
// (kubernetes.operator.job.upgrade.ignore-pending-savepoint), stops the
// job, as a FlinkDeployment's does (flinkdeployment.SupersededSavepoint):
// recorded when Flink reports it completed, else its trigger dropped and
// said, persisted before the job is touched. Without the setting the
// upgrade has waited for it: nothing is pending here.
func (r *Reconciler) supersedePendingSavepoint(ctx context.Context, s *state, jm flinkrest.Client) error {
	if !savepointPending(s) {
		return nil
	}
	js := &s.job.Status.JobStatus
	op, err := jm.SavepointStatus(ctx, js.JobID, js.SavepointInfo.TriggerID)
	if loc, msg := flinkdeployment.SupersededSavepoint(js.SavepointInfo, op, err); loc != "" {
		if err := r.completeSavepoint(ctx, s, jm, loc); err != nil {
			return err
		}
		r.event(s, "Normal", "SavepointCompleted", "savepoint completed: "+loc)
	} else {
		js.SavepointInfo.TriggerID, js.SavepointInfo.TriggerType, js.SavepointInfo.TriggerTimestamp = "", "", nil
		r.event(s, "Warning", flinkdeployment.ReasonSavepointSuperseded, msg)
	}
	return r.persist(ctx, s)
}

// specChangedText says what a spec change does first: stop the job, or
// nothing when the session cluster does not know it.
func specChangedText(s *state) string {
	if s.missing {
		return "New spec: the session cluster does not know job " + s.job.Status.JobStatus.JobID + ", nothing to stop"
	}
	return "Stopping the job for its new spec"
}

// running reports a job state that is not terminal.
func running(state v1beta1.JobStatusState) bool {
	switch state {
	case v1beta1.JobFinished, v1beta1.JobCanceled, v1beta1.JobFailed, v1beta1.JobSuspended:
		return false
	}
	return true
}

// upgradeMode is the spec's upgrade mode, stateless when unset. Last-state
// goes by cancellation (stopForLastState): a session job has no HA
// metadata of its own.
func upgradeMode(spec *v1beta1.FlinkSessionJobSpec) v1beta1.UpgradeMode {
	if spec.Job == nil || spec.Job.UpgradeMode == "" {
		return v1beta1.UpgradeModeStateless
	}
	return spec.Job.UpgradeMode
}

// stop stops the running job: cancelled when stateless (a job CANCELLING
// is waited for, reported once that lasts too long: awaitCancel),
// cancelled for its latest checkpoint when last-state (stopForLastState),
// else stopped with a savepoint whose trigger id is recorded before Flink
// hears of it, then polled until its path is recorded.
func (r *Reconciler) stop(ctx context.Context, s *state, jm flinkrest.Client) error {
	js := &s.job.Status.JobStatus
	if err := r.supersedePendingSavepoint(ctx, s, jm); err != nil {
		return err
	}
	cancel, what := upgradeMode(&s.job.Spec) == v1beta1.UpgradeModeStateless, statelessUpgrade
	if redeploying(s) {
		// The state comes from initialSavepointPath: nothing to keep.
		cancel, what = true, savepointRedeploy
	}
	switch {
	case cancel && js.State == v1beta1.JobCancelling:
		return r.awaitCancel(s, what)
	case cancel:
		if err := r.cancelForUpgrade(ctx, s, jm, what); err != nil {
			return err
		}
		return r.awaitCancel(s, what)
	case js.SavepointInfo != nil && js.SavepointInfo.TriggerID != "" && js.SavepointInfo.TriggerType == v1beta1.TriggerUpgrade:
		return r.pollStop(ctx, s, jm)
	case upgradeMode(&s.job.Spec) == v1beta1.UpgradeModeLastState:
		return r.stopForLastState(ctx, s, jm)
	}
	return r.triggerSavepoint(ctx, s, jm, v1beta1.TriggerUpgrade)
}

// statelessUpgrade names the stateless upgrade (or suspend) in messages.
const statelessUpgrade = "the stateless upgrade"

// savepointRedeploy names the savepoint redeploy in messages.
const savepointRedeploy = "the savepoint redeploy"

// redeploying reports a savepoint redeploy under way: a new
// job.savepointRedeployNonce, as upstream's SAVEPOINT_REDEPLOY, which a
// session job gets too. The job is cancelled, whatever the upgrade mode,
// and the new spec starts from job.initialSavepointPath (validation
// requires it).
func redeploying(s *state) bool {
	return s.last != nil && s.last.Job != nil && s.job.Spec.Job != nil && v1beta1.NonceAsks(s.job.Spec.Job.SavepointRedeployNonce, s.last.Job.SavepointRedeployNonce)
}

// redeploy starts the stopped job's new spec from job.initialSavepointPath,
// as upstream's redeployWithSavepoint, or records a suspend with that path
// for the resume to start from. The job's own latest state is not used:
// the user chose the savepoint.
func (r *Reconciler) redeploy(ctx context.Context, s *state, jm flinkrest.Client) error {
	js, spec := &s.job.Status.JobStatus, &s.job.Spec
	js.UpgradeSavepointPath = spec.Job.InitialSavepointPath
	s.problem = clearProblem(s.problem, problem.UpgradeBlocked)
	if suspended(spec) {
		js.State = v1beta1.JobSuspended
		r.event(s, "Normal", "Suspended", "Job suspended for the savepoint redeploy"+savedText(js.UpgradeSavepointPath))
		return r.record(s, false)
	}
	r.event(s, "Normal", "SavepointRedeploy", "Redeploying the job from job.initialSavepointPath "+js.UpgradeSavepointPath)
	return r.submit(ctx, s, jm, false)
}

// savepointsDir is the job's savepoint directory (Flink 1.20's key, else
// state.savepoints.dir), else its session cluster's, else the member's
// default; "" leaves it to the cluster.
func savepointsDir(s *state) string { return flinkconf.SavepointsDir(s.setting) }

// pollStop follows the upgrade's stop-with-savepoint and records its path.
func (r *Reconciler) pollStop(ctx context.Context, s *state, jm flinkrest.Client) error {
	loc, err := r.pollSavepoint(ctx, s, jm)
	if err != nil {
		return err
	}
	js := &s.job.Status.JobStatus
	js.UpgradeSavepointPath = loc
	js.State = v1beta1.JobFinished
	r.event(s, "Normal", "SavepointCompleted", "Savepoint for the upgrade: "+loc)
	return r.persist(ctx, s)
}

// pollSavepoint follows the pending savepoint: it returns its location once
// done, recorded as the last savepoint and in the history; a waiting error
// while in progress (reported once that lasts too long:
// reportSavepointStalled); and on failure ends the trigger and reports it.
func (r *Reconciler) pollSavepoint(ctx context.Context, s *state, jm flinkrest.Client) (string, error) {
	js := &s.job.Status.JobStatus
	info := js.SavepointInfo
	op, err := jm.SavepointStatus(ctx, js.JobID, info.TriggerID)
	switch {
	case flinkrest.IsNotFound(err):
		return r.forgottenTrigger(ctx, s, jm)
	case err != nil:
		return "", fmt.Errorf("savepoint of job %s: %w", js.JobID, err)
	case !op.Done:
		r.reportSavepointStalled(s)
		return "", requeue.Waiting(flinkdeployment.ErrSavepointInProgress, r.Options.ProgressCheckInterval)
	case op.Failure != "":
		if info.TriggerType == v1beta1.TriggerManual && snapshots.WithinGrace(s.setting, flinkconf.KeySavepointGracePeriod, info.TriggerTimestamp, r.now()) {
			r.event(s, "Warning", "SavepointError", "Savepoint failed within its trigger grace period, retrying: "+boundedtext.Quote(op.Failure, maxQuotedCause))
			return "", r.retrySavepoint(ctx, s, jm)
		}
		return "", r.savepointFailed(s, op.Failure)
	}
	return op.Location, r.completeSavepoint(ctx, s, jm, op.Location)
}

// completeSavepoint records the pending savepoint, at loc, as the last
// one and in the history, and ends its trigger.
func (r *Reconciler) completeSavepoint(ctx context.Context, s *state, jm flinkrest.Client, loc string) error {
	info := s.job.Status.JobStatus.SavepointInfo
	sp := v1beta1.Savepoint{TimeStamp: r.now().UnixMilli(), Location: loc, TriggerType: info.TriggerType, FormatType: info.FormatType}
	if info.TriggerType == v1beta1.TriggerManual && s.last != nil && s.last.Job != nil {
		sp.TriggerNonce = s.last.Job.SavepointTriggerNonce
	}
	info.LastSavepoint = &sp
	trimmed := snapshots.Trim(ctx, append(info.SavepointHistory, sp), s.setting, r.now(), flinkdeployment.DisposeWith(jm),
		loc, s.job.Status.JobStatus.UpgradeSavepointPath, initialSavepoint(&s.job.Spec))
	info.SavepointHistory = trimmed.Kept
	flinkdeployment.ReportDisposals(func(eventType, reason, msg string) { r.event(s, eventType, reason, msg) }, trimmed)
	warn := func(msg string) { r.event(s, "Warning", "SnapshotNotRecorded", msg) }
	// Written once the fenced status write recording the savepoint went
	// through.
	s.afterWrite = append(s.afterWrite, func(ctx context.Context) {
		flinkdeployment.ForgetSnapshots(ctx, s.cluster.GetClient(), s.job, trimmed.Dropped(), warn)
		flinkdeployment.RecordSnapshot(ctx, s.cluster.GetClient(), s.job, v1beta1.JobKindFlinkSessionJob, sp, s.setting, warn)
	})
	info.TriggerID, info.TriggerType, info.TriggerTimestamp = "", "", nil
	s.problem = clearProblem(s.problem, problem.SavepointFailed)
	return nil
}

// initialSavepoint is the spec's job.initialSavepointPath.
func initialSavepoint(spec *v1beta1.FlinkSessionJobSpec) string {
	if spec.Job == nil {
		return ""
	}
	return spec.Job.InitialSavepointPath
}

// forgottenTrigger handles a recorded trigger Flink does not know. While
// the job runs, the trigger never reached Flink (the hub stopped between
// recording and sending it, or the request was lost): it is sent again,
// same id. Once the job has stopped, a stop-with-savepoint completed
// after Flink forgot its trigger: its savepoint is found in the job's
// checkpoint statistics. Else the savepoint failed.
func (r *Reconciler) forgottenTrigger(ctx context.Context, s *state, jm flinkrest.Client) (string, error) {
	js := &s.job.Status.JobStatus
	info := js.SavepointInfo
	if js.State == v1beta1.JobRunning {
		return "", r.sendSavepoint(ctx, s, jm)
	}
	if loc := flinkdeployment.RecoverSavepoint(ctx, jm, js.JobID, info); loc != "" {
		r.event(s, "Normal", "SavepointRecovered", "Flink forgot savepoint trigger "+info.TriggerID+"; found its savepoint in the job's checkpoint statistics: "+loc)
		return loc, r.completeSavepoint(ctx, s, jm, loc)
	}
	return "", r.savepointFailed(s, "the JobManager no longer knows the savepoint trigger")
}

// savepointFailed ends the pending savepoint, which failed with cause,
// reports it (snapshotFailure) and looks again when the report says the
// next one is taken (snapshots.Attempt.RetryAfter).
func (r *Reconciler) savepointFailed(s *state, cause string) error {
	info := s.job.Status.JobStatus.SavepointInfo
	kind := info.TriggerType
	s.problem = r.snapshotFailure(s, false, kind, cause)
	info.TriggerID, info.TriggerType, info.TriggerTimestamp = "", "", nil
	return requeue.Waiting(errors.New(cause), r.snapshotAttempt(s, false, kind).RetryAfter())
}

// triggerSavepoint records a savepoint trigger of kind, persists it, then
// sends it to Flink (stopping the job for an upgrade).
func (r *Reconciler) triggerSavepoint(ctx context.Context, s *state, jm flinkrest.Client, kind v1beta1.SnapshotTriggerType) error {
	js := &s.job.Status.JobStatus
	if js.SavepointInfo == nil {
		js.SavepointInfo = &v1beta1.SavepointInfo{}
	}
	info := js.SavepointInfo
	id, err := newID()
	if err != nil {
		return err
	}
	now := r.now().UnixMilli()
	info.TriggerID, info.TriggerType, info.TriggerTimestamp, info.FormatType = id, kind, &now, v1beta1.SavepointFormatCanonical
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	return r.sendSavepoint(ctx, s, jm)
}

// retrySavepoint triggers the failed manual savepoint again under a new
// trigger id, persisted before Flink hears of it; the first trigger's
// time stays, so the grace period, and the retries, end.
func (r *Reconciler) retrySavepoint(ctx context.Context, s *state, jm flinkrest.Client) error {
	id, err := newID()
	if err != nil {
		return err
	}
	s.job.Status.JobStatus.SavepointInfo.TriggerID = id
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	return r.sendSavepoint(ctx, s, jm)
}

// maxQuotedCause bounds the JobManager's failure text an event quotes.
const maxQuotedCause = 512

// sendSavepoint sends the recorded trigger to Flink (stopping the job for
// an upgrade). An answer that does not come leaves the trigger to be
// polled; a refusal ends it.
func (r *Reconciler) sendSavepoint(ctx context.Context, s *state, jm flinkrest.Client) error {
	js := &s.job.Status.JobStatus
	info := js.SavepointInfo
	req := flinkrest.SavepointRequest{TriggerID: info.TriggerID, FormatType: api.SavepointFormatType(info.FormatType), TargetDirectory: savepointsDir(s)}
	var err error
	if info.TriggerType == v1beta1.TriggerUpgrade {
		req.Drain, _ = flinkconf.Bool(s.setting(flinkconf.KeyDrainOnSavepoint))
		_, err = jm.StopWithSavepoint(ctx, js.JobID, req)
	} else {
		_, err = jm.TriggerSavepoint(ctx, js.JobID, req)
	}
	if err != nil && flinkrest.KindOf(err) != flinkrest.KindTimeout {
		return r.savepointFailed(s, err.Error())
	}
	return requeue.Waiting(flinkdeployment.ErrSavepointInProgress, r.Options.ProgressCheckInterval)
}

// submit records the spec with a new job id chosen by the hub (persisted
// before Flink hears of it), then runs it.
func (r *Reconciler) submit(ctx context.Context, s *state, jm flinkrest.Client, first bool) error {
	id, err := newID()
	if err != nil {
		return err
	}
	js := &s.job.Status.JobStatus
	js.JobID, js.State, js.UpdateTime = id, v1beta1.JobReconciling, strconv.FormatInt(r.now().UnixMilli(), 10)
	if err := r.record(s, first); err != nil {
		return err
	}
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	return r.run(ctx, s, jm)
}

// run uploads the job's jar (jobJar), runs the recorded job id from the
// recorded restore path, and deletes the uploaded jar. A job id Flink
// already knows (running, or ended and kept in its job result store) is
// not an error: the submission arrived before (alreadySubmitted).
func (r *Reconciler) run(ctx context.Context, s *state, jm flinkrest.Client) error {
	js := &s.job.Status.JobStatus
	req, err := jarRunBody(s, r.runConfiguration(s))
	if err != nil {
		// Nothing is submitted; the restore path stays recorded.
		s.problem = problem.New(problem.InvalidSpec, "invalid configuration: "+err.Error())
		return nil
	}
	name, jar, err := r.jobJar(ctx, s)
	if err != nil {
		return r.jarProblem(s, err)
	}
	defer jar.Close()
	jarID, err := jm.UploadJar(ctx, name, jar)
	// The upload had a budget of its own, beyond the reconcile deadline:
	// what follows gets that deadline afresh.
	ctx, cancel := deadline.Renew(ctx)
	defer cancel()
	if err != nil {
		return r.jarProblem(s, fmt.Errorf("upload of %s to session cluster %s: %w", name, s.session.Name, err))
	}
	defer func() {
		if err := jm.DeleteJar(context.WithoutCancel(ctx), jarID); err != nil {
			log.FromContext(ctx).Info("cannot delete the uploaded jar; it stays in the session cluster", "session", s.session.Name, "jar", jarID, "error", err.Error())
		}
	}()
	if _, err := jm.RunJar(ctx, jarID, req); flinkrest.IsDuplicateSubmission(err) {
		return r.alreadySubmitted(ctx, s, jm)
	} else if err != nil {
		return fmt.Errorf("run job %s: %w", js.JobID, err)
	}
	s.problem = clearProblem(s.problem, problem.JarUnavailable, problem.ReconcileFailed, problem.JobResultGone)
	r.event(s, "Normal", "Submit", "Submitted job "+js.JobID+fromText(js.UpgradeSavepointPath))
	s.next = r.Options.ProgressCheckInterval
	return nil
}

// alreadySubmitted handles Flink refusing the recorded job id as already
// submitted: an earlier submission arrived and its answer was lost (a
// timeout, a reset connection). The job is read again, as the refusal
// came after the read that did not find it: one Flink shows is followed
// from now on. One it still does not show has ended (FINISHED, FAILED or
// CANCELED: the job result store that refused the id holds only jobs that
// ended) and its details expired (jobstore.expiration-time) before the
// hub saw it. No REST call answers for it any more (Flink's
// /jobs/{id}/execution-result reads the same expired store as
// /jobs/{id}), so how it ended is unknown: JobResultGone says so, and the
// job is never run again (each run would be refused). A job that does
// show up later after all is followed again (observe clears the problem).
func (r *Reconciler) alreadySubmitted(ctx context.Context, s *state, jm flinkrest.Client) error {
	js := &s.job.Status.JobStatus
	s.missing = false
	if err := r.observe(ctx, s, jm); err != nil {
		return err
	}
	if !s.missing {
		s.problem = clearProblem(s.problem, problem.JarUnavailable, problem.ReconcileFailed)
		r.event(s, "Normal", "Submit", "Job "+js.JobID+" was submitted before: the answer to that submission was lost")
		s.next = r.Options.ProgressCheckInterval
		return nil
	}
	s.problem = problem.New(problem.JobResultGone, fmt.Sprintf("job %s was submitted to session cluster %s and has ended, but how (FINISHED, FAILED or CANCELED) is unknown: "+
		"the answer to its submission was lost, and the job ended and Flink dropped its details and result (jobstore.expiration-time) before the hub could read them. "+
		"Flink refuses to run the same job id again and the hub does not try; change the spec, or suspend and resume the job, to run it again under a new id",
		js.JobID, s.session.Name))
	return nil
}

// jobJar is the jar to upload and its name: the jar of an http or https
// jarURI, fetched; for a local:// jarURI or none, a launcher jar that puts
// the local jar, or nothing, on the job's class loader, so the entry class
// comes from the session cluster's image.
func (r *Reconciler) jobJar(ctx context.Context, s *state) (string, io.ReadCloser, error) {
	uri := s.job.Spec.Job.JarURI
	local, name, err := jarSource(uri)
	if err != nil {
		return "", nil, err
	}
	if name != "" {
		header, withheld, err := artifactHeader(s, uri)
		if err != nil {
			return "", nil, err
		}
		jar, err := r.Jars.Fetch(ctx, uri, header)
		if err != nil && withheld != "" {
			return "", nil, fmt.Errorf("%w (%s)", err, withheld)
		}
		if err != nil {
			return "", nil, err
		}
		f, err := os.Open(jar.Path)
		if err != nil {
			return "", nil, fmt.Errorf("open fetched jar: %w", err)
		}
		return name, f, nil
	}
	launcher, err := launcherjar.Build(local...)
	if err != nil {
		return "", nil, err
	}
	return s.job.Name + "-launcher.jar", io.NopCloser(bytes.NewReader(launcher)), nil
}

// artifactHeader is the HTTP header of the job's jar fetch from uri: the
// user.artifacts.http.header setting of the job's configuration, else of
// its session cluster's, else the member's default, the whole value from
// the first that sets it (as upstream, whose session job configuration
// is the three merged key by key). A default goes only to the origins its
// ConfigMap names (defaults.HeaderOriginsKey): to another, none is sent
// and withheld says why, for the error of a fetch that then fails. One
// that cannot be read is an invalidSetting naming where it was set, the
// setting and the header key, never a value.
func artifactHeader(s *state, uri string) (header http.Header, withheld string, err error) {
	value, source := s.lookup(flinkconf.KeyArtifactHTTPHeader)
	header, err = flinkconf.HTTPHeaders(value)
	if err != nil {
		return nil, "", invalidSetting{fmt.Errorf("%s: %s: %w", source, flinkconf.KeyArtifactHTTPHeader, err)}
	}
	if source == sourceDefaults && !s.headerScope.Allows(uri) {
		return http.Header{}, s.headerScope.Withheld(), nil
	}
	return header, "", nil
}

// invalidSetting is a setting of the job's, its session cluster's or the
// member's default configuration that cannot be read: the job's
// InvalidSpec until it is corrected.
type invalidSetting struct{ err error }

// Error says where the setting was set, its key and why it cannot be read.
func (e invalidSetting) Error() string { return e.err.Error() }

// jarSource reads a session job's jarURI: the path of a local:// jar (its
// scheme in any case, as validation reads it), or for a jar to fetch the
// file name to upload it as (from the path alone: never the userinfo or
// query); neither for no jarURI.
func jarSource(uri string) (local []string, name string, err error) {
	u, err := url.Parse(uri)
	switch {
	case err != nil:
		return nil, "", &jarfetch.Error{Kind: jarfetch.KindUnsupported, URI: problem.RedactURI(uri), Reason: "not a URI"}
	case u.Scheme == "local": // url.Parse lowercases the scheme
		return []string{u.Path}, "", nil
	case uri == "":
		return nil, "", nil
	}
	name = path.Base(u.Path)
	if name == "/" || name == "." {
		name = "job.jar"
	}
	return nil, name, nil
}

// jarProblem makes a jar that cannot be fetched or uploaded the job's
// problem; it is tried again after the reconcile interval. A jarURI the
// hub does not fetch and jar fetch headers that cannot be read
// (invalidSetting) are InvalidSpec instead.
func (r *Reconciler) jarProblem(s *state, err error) error {
	var fe *jarfetch.Error
	var bad invalidSetting
	msg := err.Error()
	switch {
	case errors.As(err, &fe) && fe.Kind == jarfetch.KindUnsupported:
		s.problem = problem.New(problem.InvalidSpec, "invalid spec: spec.job.jarURI: "+msg)
		return nil
	case errors.As(err, &bad):
		s.problem = problem.New(problem.InvalidSpec, "invalid configuration: "+msg)
		return nil
	}
	s.problem = problem.New(problem.JarUnavailable, msg)
	return requeue.Waiting(err, r.Options.ReconcileInterval)
}

// record records the spec as reconciled and deployed (the submission,
// or a suspended job's spec), with the snapshot trigger nonces already
// handled (withHandledNonces): a new one set with a resume, an upgrade or
// while the job is suspended stays pending until the job runs, when the
// snapshot steps take it and record it with the trigger. Until
// 2026-12-07 such a nonce was recorded as handled and its snapshot never
// taken. The first submission records the spec's nonces as they are, as
// upstream's: a nonce the job is created with asks for nothing.
func (r *Reconciler) record(s *state, first bool) error {
	spec := withHandledNonces(&s.job.Spec, s.last)
	encoded, err := encodeSpec(spec, first)
	if err != nil {
		return err
	}
	rs := &s.job.Status.ReconciliationStatus
	rs.LastReconciledSpec, rs.ReconciliationTimestamp, rs.State = encoded, r.now().UnixMilli(), v1beta1.ReconciliationDeployed
	s.last = spec
	seen(s)
	return nil
}

// recordWithoutRestart records a spec whose change restarts nothing
// (changed is false) as the last reconciled one, with the last one's
// snapshot nonces, which their steps compare with and record themselves,
// and says so in an event. The reconciliation timestamp stays that of the
// submission, as upstream's updateReconciliationMetadata leaves it:
// plan.NewestRestorePoint takes a savepoint completed after it (with the
// job's start time unknown) as newer than the one the job started from.
func (r *Reconciler) recordWithoutRestart(s *state) error {
	if err := recordRunning(s); err != nil {
		return err
	}
	r.event(s, "Normal", "SpecChanged", "New spec recorded: it changes only what steers the operator (its settings, the upgrade mode, restore settings), so the job runs on")
	return nil
}

// recordRunning records the spec, with the last one's snapshot nonces
// (withHandledNonces), as the last reconciled one of the job that runs on:
// the reconciliation state and timestamp stay those of its submission
// (recordWithoutRestart says why).
func recordRunning(s *state) error {
	spec := withHandledNonces(&s.job.Spec, s.last)
	encoded, err := encodeSpec(spec, false)
	if err != nil {
		return err
	}
	s.job.Status.ReconciliationStatus.LastReconciledSpec = encoded
	s.last = spec
	seen(s)
	return nil
}

// seen records the job's generation as observed (status.observedGeneration):
// the hub has acted on what it asks, or holds it pending (a snapshot nonce
// until the job runs), as upstream's updateReconciliationMetadata does for a
// change its spec diff ignores, and a FlinkDeployment's report.
func seen(s *state) { s.job.Status.ObservedGeneration = s.job.Generation }

// withHandledNonces is a copy of spec to record as reconciled: with the
// savepoint and checkpoint trigger nonces of last, the ones already acted
// upon (plan.WithHandledJobNonces, as upstream's
// updateStatusForSpecReconciliation keeps them "to not lose new
// triggers"), or, before the first submission (last nil), as they are.
// The snapshot steps alone record a new nonce, with its trigger; an unset
// one asks for nothing and keeps the one handled (v1beta1.NonceAsks).
func withHandledNonces(spec, last *v1beta1.FlinkSessionJobSpec) *v1beta1.FlinkSessionJobSpec {
	c := spec.DeepCopy()
	if last != nil {
		c.Job = plan.WithHandledJobNonces(c.Job, last.Job)
	}
	return c
}

// finalize ends the job, if its session cluster still runs it, and
// removes the finalizer: the job is cancelled, or stopped with a savepoint
// when kubernetes.operator.job.savepoint-on-deletion is true (the
// savepoint's path is kept in the status and an event until the
// finalizer goes; a savepoint that fails holds the deletion, reported).
func (r *Reconciler) finalize(ctx context.Context, s *state) error {
	job := s.job
	if !controllerutil.ContainsFinalizer(job, Finalizer) {
		return nil
	}
	if job.Status.LifecycleState != v1beta1.LifecycleDeleting {
		job.Status.LifecycleState = v1beta1.LifecycleDeleting
		if err := r.persist(ctx, s); err != nil {
			return err
		}
	}
	if js := &job.Status.JobStatus; js.JobID != "" && running(js.State) {
		if hold, err := r.sessionForDeletion(ctx, s); err != nil || hold {
			return err
		}
	}
	return memberkind.SetFinalizer(ctx, s.cluster.GetClient(), job, Finalizer, false)
}

// sessionForDeletion ends the job for the deletion through its session
// cluster and reports whether the finalizer must stay. A session cluster
// that is gone, or is an application cluster, runs nothing of this job: the
// finalizer goes. One that cannot be read holds the deletion (the error is
// reported). One recorded as not ready (a JobManager restarting) is waited
// for as jobManagerLeft waits for its Deployment; one being deleted itself
// has its status no longer refreshed, so its Deployment says.
func (r *Reconciler) sessionForDeletion(ctx context.Context, s *state) (bool, error) {
	fd := &v1beta1.FlinkDeployment{}
	err := s.cluster.GetClient().Get(ctx, client.ObjectKey{Namespace: s.job.Namespace, Name: s.job.Spec.DeploymentName}, fd)
	js := &s.job.Status.JobStatus
	switch {
	case apierrors.IsNotFound(err):
		r.event(s, "Warning", "SessionClusterGone", "Session cluster "+s.job.Spec.DeploymentName+" is gone: job "+js.JobID+" went with it; nothing left to cancel")
		return false, nil
	case err != nil:
		return true, fmt.Errorf("read session cluster: %w", err)
	case fd.Spec.Job != nil:
		return false, nil // an application cluster: the job was never submitted there
	}
	s.session = fd
	if fd.DeletionTimestamp.IsZero() && fd.Status.JobManagerDeploymentStatus != v1beta1.JobManagerReady {
		return r.awaitJobManager(s, fmt.Sprintf("is not ready (JobManager %s)", fd.Status.JobManagerDeploymentStatus))
	}
	if s.problem.Is(problem.SessionClusterUnavailable) {
		s.problem = problem.Problem{}
	}
	return r.jobManagerLeft(ctx, s)
}

// jobManagerLeft ends the job for the deletion when its session cluster's
// JobManager Deployment is there and ready, and reports whether the
// finalizer must stay (the job not ended yet, or the JobManager not ready
// within the readiness timeout from the deletion). A JobManager Deployment
// that is gone or being deleted (a namespace deletion) has no job left to
// end: the finalizer goes, said in an event.
func (r *Reconciler) jobManagerLeft(ctx context.Context, s *state) (bool, error) {
	dep, err := flinkdeployment.JobManagerDeployment(ctx, s.cluster, s.session)
	js := &s.job.Status.JobStatus
	switch {
	case err != nil:
		return true, fmt.Errorf("session cluster %s: %w", s.session.Name, err)
	case dep == nil || !dep.DeletionTimestamp.IsZero():
		r.event(s, "Warning", "JobManagerGone", "Session cluster "+s.session.Name+"'s JobManager is gone: job "+js.JobID+" went with it; nothing left to cancel")
		return false, nil
	case dep.Status.AvailableReplicas == 0:
		return r.awaitJobManager(s, "'s JobManager is not ready")
	}
	jm, err := r.JobManagers(s.clusterName, s.cluster.GetConfig(), s.session)
	if err != nil {
		return true, err
	}
	return false, r.endForDeletion(ctx, s, jm)
}

// awaitJobManager holds the deletion while the session cluster's
// JobManager is not ready (why says how), reported in the status, up to
// the readiness timeout from the deletion; then the job is left to it,
// said in an event, and the finalizer goes.
func (r *Reconciler) awaitJobManager(s *state, why string) (bool, error) {
	since, js := s.job.DeletionTimestamp.Time, &s.job.Status.JobStatus
	if r.now().Sub(since) > r.Options.ReadinessTimeout {
		r.event(s, "Warning", "JobManagerNotReady", fmt.Sprintf("Session cluster %s%s since the deletion (%s, longer than %s): job %s is left to it",
			s.session.Name, why, since.UTC().Format(time.RFC3339), r.Options.ReadinessTimeout, js.JobID))
		return false, nil
	}
	s.problem = problem.New(problem.SessionClusterUnavailable, fmt.Sprintf("session cluster %s%s: the job is ended once it is ready, or left to it after %s",
		s.session.Name, why, r.Options.ReadinessTimeout))
	return true, requeue.Waiting(errors.New("session cluster's JobManager not ready"), r.Options.ProgressCheckInterval)
}

// endForDeletion cancels the running job, or stops it with a savepoint
// (recorded first, followed to its path) when the job's configuration, or
// its session cluster's, says so. It returns nil once the job has ended.
func (r *Reconciler) endForDeletion(ctx context.Context, s *state, jm flinkrest.Client) error {
	js := &s.job.Status.JobStatus
	if on, _ := flinkconf.Bool(s.setting(flinkconf.KeySavepointOnDeletion)); !on {
		if err := jm.CancelJob(ctx, js.JobID); err != nil && !flinkrest.IsNotFound(err) {
			return fmt.Errorf("cancel job %s: %w", js.JobID, err)
		}
		r.event(s, "Normal", "Cancelled", "Job "+js.JobID+" cancelled for the deletion")
		return nil
	}
	if info := js.SavepointInfo; info == nil || info.TriggerID == "" || info.TriggerType != v1beta1.TriggerUpgrade {
		// Only a job that runs can be stopped with a savepoint: one Flink
		// does not know (never submitted, lost) or that ended has nothing
		// to save.
		job, err := jm.JobDetails(ctx, js.JobID)
		switch {
		case flinkrest.IsNotFound(err):
			r.event(s, "Normal", "NothingToStop", "Session cluster "+s.session.Name+" does not know job "+js.JobID+": no savepoint to take for the deletion")
			return nil
		case err != nil:
			return fmt.Errorf("read job %s: %w", js.JobID, err)
		case !running(v1beta1.JobStatusState(job.State)):
			r.event(s, "Normal", "NothingToStop", "Job "+js.JobID+" is "+string(job.State)+": no savepoint to take for the deletion")
			return nil
		}
		return r.triggerSavepoint(ctx, s, jm, v1beta1.TriggerUpgrade)
	}
	loc, err := r.pollSavepoint(ctx, s, jm)
	if err != nil {
		return err
	}
	js.State = v1beta1.JobFinished
	r.event(s, "Normal", "SavepointCompleted", "Job "+js.JobID+" stopped for the deletion with savepoint "+loc)
	return r.persist(ctx, s)
}

// setting is a setting of the session job's configuration, else of its
// session cluster's, else the member's default.
func (s *state) setting(key string) string {
	v, _ := s.lookup(key)
	return v
}

// lookup is setting's value of key (under its name or a name upstream
// deprecated) and the configuration it comes from, named for a message;
// "" and "" when none sets it.
func (s *state) lookup(key string) (value, source string) {
	if conf, err := s.job.Spec.FlatConfiguration(); err == nil {
		if v, ok := flinkconf.LookupOperatorSetting(conf, key); ok {
			return v, "spec.flinkConfiguration"
		}
	}
	if s.session != nil {
		if conf, err := s.session.Spec.FlatConfiguration(); err == nil {
			if v, ok := flinkconf.LookupOperatorSetting(conf, key); ok {
				return v, "session cluster " + s.session.Name + "'s spec.flinkConfiguration"
			}
		}
	}
	if v, ok := flinkconf.LookupOperatorSetting(s.defaults, key); ok {
		return v, sourceDefaults
	}
	return "", ""
}

// sourceDefaults is lookup's source of a setting from the member's
// default configuration (the fleet's and the member's).
const sourceDefaults = "the member's default configuration"

// newID is a random Flink job or trigger id: 16 bytes in hex.
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func fromText(path string) string {
	if path == "" {
		return ""
	}
	return " from " + path
}

func savedText(path string) string {
	if path == "" {
		return ""
	}
	return " with savepoint " + path
}
