// Package plan decides what a FlinkDeployment's reconcile does next with
// its spec: Next is a pure function from the spec, the status and what was
// observed of the cluster to one step (deploy, capture the job's state,
// delete the old cluster, record it gone, deploy the upgrade or suspend,
// roll back, ...). The controller runs the step, persists the status, and
// asks again; because every decision is read from the status, a reconcile
// interrupted anywhere (a crash, a shard handoff) is finished by whichever
// replica asks next.
package plan

import (
	"fmt"
	"strconv"
	"time"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/clusterhealth"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
	"github.com/flink-hub/flink-hub/internal/flinkrest/checkpoints"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// Step is what the reconcile does next.
type Step string

// The steps. Each is idempotent: run twice, it does what it did once.
const (
	// Nothing: the cluster is as the spec asks and nothing is due (a
	// suspended job).
	Nothing Step = "Nothing"
	// Steady: the spec is deployed, or the cluster was rolled back and
	// runs the last stable spec until the spec changes; recover nothing,
	// take the periodic snapshots that are due and trim the savepoint
	// history. It changes no reconciliation state.
	Steady Step = "Steady"
	// RecordSpec: record the spec as reconciled without touching the
	// cluster (created suspended, changed while suspended, a change that
	// needs no redeploy).
	RecordSpec Step = "RecordSpec"
	// Deploy: deploy the spec (first deployment, resume) from Restore.
	Deploy Step = "Deploy"
	// Scale: resize a reactive cluster's TaskManagers.
	Scale Step = "Scale"
	// ScaleInPlace: set the running job's new parallelism overrides
	// through Flink's resource requirements API (the adaptive scheduler
	// rescales it, same job) and record the spec; when that does not
	// apply, the controller asks again with Input.ScaleRefused.
	ScaleInPlace Step = "ScaleInPlace"
	// RecoverJobManager: recreate a JobManager Deployment deleted behind
	// the hub's back (on a rolled-back cluster, the last stable spec's,
	// staying ROLLED_BACK).
	RecoverJobManager Step = "RecoverJobManager"
	// Begin: mark an upgrade (or suspend) under way, before any step of it.
	Begin Step = "Begin"
	// RestartFailed: begin an upgrade to the same spec for a job that
	// failed for good, from Restore; on a rolled-back cluster, restart the
	// last stable spec's job from Restore, staying ROLLED_BACK.
	RestartFailed Step = "RestartFailed"
	// ReadHAMetadata: the next decision needs to know whether Flink's HA
	// metadata holds a checkpoint; read it into Input.HAMetadata and ask
	// again.
	ReadHAMetadata Step = "ReadHAMetadata"
	// ReadCheckpoints: the next decision needs the times of the job's
	// latest completed and pending checkpoints, or the latest state of a
	// job that ended; read them into Input.Checkpoints and Input.Latest
	// and ask again.
	ReadCheckpoints Step = "ReadCheckpoints"
	// CancelJob: cancel the running job for a last-state upgrade with
	// kubernetes.operator.job.upgrade.last-state.job-cancel.enabled; its
	// latest retained checkpoint is then the upgrade's starting point.
	CancelJob Step = "CancelJob"
	// RecordCheckpoint: record the latest checkpoint of the job that was
	// cancelled, failed or finished (Restore) as the upgrade's starting
	// point.
	RecordCheckpoint Step = "RecordCheckpoint"
	// RecordEmptyState: record that the job cancelled for a last-state
	// upgrade has no state to restore (Flink reports no checkpoint,
	// savepoint or restore of it, and the status records no savepoint):
	// the upgrade starts it empty, as upstream does.
	RecordEmptyState Step = "RecordEmptyState"
	// KeepLatest: read what Flink reports of the latest checkpoints of the
	// job that ended, and keep it in the status (RecordLatest) before its
	// JobManager goes, as upstream's observer records it: an upgrade or
	// restart after the JobManager is gone starts from it.
	KeepLatest Step = "KeepLatest"
	// RecordSavepoint: record the ended job's newest known savepoint
	// (Restore) as the upgrade's starting point: there is no HA metadata
	// to restore from (a job cancelled for a last-state upgrade among
	// them), no savepoint can be taken, and Flink reports no newer
	// checkpoint (or its JobManager is gone).
	RecordSavepoint Step = "RecordSavepoint"
	// TriggerSavepoint: stop the job with a savepoint for the upgrade.
	TriggerSavepoint Step = "TriggerSavepoint"
	// PollSavepoint: follow the upgrade's pending savepoint.
	PollSavepoint Step = "PollSavepoint"
	// ManualRestore: a stateful upgrade has no HA metadata and no
	// savepoint to restore from; report it (Why, else upstream's last-state
	// message) and wait for the user.
	ManualRestore Step = "ManualRestore"
	// Blocked: a savepoint upgrade can take no savepoint (the job does not
	// run) and has no HA metadata to fall back to; report it and wait.
	Blocked Step = "Blocked"
	// Delete: delete the old cluster (cancelling its job first when
	// CancelJob, keeping its HA metadata when KeepHA).
	Delete Step = "Delete"
	// RecordGone: the old cluster is gone; record it so no later step
	// captures or deletes again.
	RecordGone Step = "RecordGone"
	// Suspend: finish a suspend: record the suspended spec.
	Suspend Step = "Suspend"
	// DeployUpgrade: deploy the new spec of an upgrade from Restore.
	DeployUpgrade Step = "DeployUpgrade"
	// RollBack: redeploy the last stable spec.
	RollBack Step = "RollBack"
	// Wait: nothing may be done before After (a failed upgrade savepoint
	// holds the next attempt back).
	Wait Step = "Wait"
	// RestartUnhealthy: the cluster health check found the running job
	// unhealthy; begin a restart of the same spec from the HA metadata (on
	// a rolled-back cluster, restart the last stable spec's, staying
	// ROLLED_BACK).
	RestartUnhealthy Step = "RestartUnhealthy"
	// ShutDown: the job ended and its JobManager outlived
	// kubernetes.operator.jm-deployment.shutdown-ttl: delete the cluster,
	// keeping its HA metadata, as upstream does.
	ShutDown Step = "ShutDown"
)

// DefaultShutdownTTL is upstream's kubernetes.operator.jm-deployment.shutdown-ttl.
const DefaultShutdownTTL = 24 * time.Hour

// Input is what Next decides from.
type Input struct {
	// Spec is the FlinkDeployment's spec.
	Spec *v1beta1.FlinkDeploymentSpec
	// Last is the last reconciled spec, nil before the first deployment.
	Last *v1beta1.FlinkDeploymentSpec
	// Status is the FlinkDeployment's status, as observed this reconcile.
	Status *v1beta1.FlinkDeploymentStatus
	// Problem is the reason of the current problem, "" for none.
	Problem problem.Reason
	// JobManager reports that the JobManager Deployment exists and is not
	// being deleted.
	JobManager bool
	// ClusterGone reports that a Delete step of this reconcile completed:
	// the old cluster's objects are gone.
	ClusterGone bool
	// HAMetadata reports whether Flink's HA metadata holds a checkpoint;
	// nil until read (ReadHAMetadata).
	HAMetadata *bool
	// Checkpoints are the times of the job's latest completed and
	// pending checkpoints; nil until read (ReadCheckpoints).
	Checkpoints *checkpoints.Times
	// Latest is what Flink reports of the job's latest checkpoints, read
	// with Checkpoints: a job that ended restores from them or from a
	// newer savepoint recorded (checkpoints.Newest).
	Latest *api.LatestCheckpoints
	// ScaleRefused says why this reconcile's in-place rescale
	// (ScaleInPlace) did not apply (the JobManager refused or failed, an
	// override of a vertex removed): the change is an upgrade instead.
	ScaleRefused string
	// Now is the time of the decision.
	Now time.Time
	// ProgressCheckInterval is how soon to look again at something under
	// way.
	ProgressCheckInterval time.Duration
	// ReadinessTimeout is the hub's default readiness timeout.
	ReadinessTimeout time.Duration
	// RetryAfterSavepointFailure is how long a failed upgrade savepoint
	// holds back the next attempt.
	RetryAfterSavepointFailure time.Duration
}

// Plan is the next step and what it needs.
type Plan struct {
	// Step is what to do.
	Step Step
	// First marks the first deployment (Deploy, RecordSpec).
	First bool
	// Restore is where a deployed job starts (Deploy, DeployUpgrade,
	// RestartFailed, RollBack).
	Restore flinkconf.Restore
	// CancelJob asks Delete to cancel the job first (stateless upgrades,
	// savepoint redeploys).
	CancelJob bool
	// KeepHA asks Delete (or a RestartUnhealthy) to keep Flink's HA
	// metadata: the new cluster restores from it.
	KeepHA bool
	// Fallback marks a Delete that keeps HA metadata because no savepoint
	// could be taken of a job that does not run.
	Fallback bool
	// SnapshotsFirst asks for the manual savepoint and checkpoint nonces
	// to be handled before the step: they compare with the last reconciled
	// spec, which the step may record.
	SnapshotsFirst bool
	// After is how long to Wait.
	After time.Duration
	// Why says what started a Begin, for its event, or what a Wait waits
	// for.
	Why string
	// Stalled, on a Wait, says that the wait has lasted longer than it
	// should: the reconciler reports it (UpgradeStalled) and keeps
	// waiting.
	Stalled string
	// KeepState, on a RecordSpec, asks to record the spec but keep the
	// reconciliation state and timestamp: a change that needs no
	// redeploy (DiffIgnore) deploys nothing, and upstream leaves the
	// status of such a change alone (updateReconciliationMetadata). On a
	// rolled-back cluster, which runs the last stable spec, the failed
	// spec it is recorded with stays ROLLED_BACK (recorded DEPLOYED, it
	// would be marked stable once the stable spec's job is seen running);
	// on a deployed one the timestamp stays that of the deployment: the
	// readiness timeout (rollBackDue) counts from it, and
	// NewestRestorePoint takes a savepoint completed after it as newer
	// than the one the deployment started from.
	KeepState bool
}

// Next is the step the reconcile takes next.
func Next(in Input) Plan {
	spec, last, st := in.Spec, in.Last, in.Status
	if last == nil {
		if Suspended(spec) {
			return Plan{Step: RecordSpec, First: true}
		}
		return Plan{Step: Deploy, First: true, Restore: flinkconf.Restore{SavepointPath: InitialSavepoint(spec)}}
	}
	switch rs := st.ReconciliationStatus.State; {
	case rs == v1beta1.ReconciliationUpgrading:
		return upgrade(in)
	case rs == v1beta1.ReconciliationRollingBack:
		return Plan{Step: RollBack, Restore: restoreFor(st, UpgradeMode(last))}
	case rs == v1beta1.ReconciliationRolledBack && !Changed(spec, last):
		// The stable spec's job runs on, and its snapshots are what a
		// later upgrade restores from. As upstream's reconcileOtherChanges
		// of an unchanged spec with its deployed spec (getDeployedSpec):
		// the manual snapshots (a new nonce, which Changed leaves to them,
		// and a pending trigger) and the periodic ones go on, the history
		// is trimmed, a failed or unhealthy job is restarted, a lost
		// JobManager recovered and an ended job's shut down, all by the
		// stable spec's settings and with the stable spec (the controller
		// runs them so on a ROLLED_BACK cluster, which stays so: the failed
		// spec is never marked stable), and nothing rolls back again. A
		// suspended stable spec (rolled back to before rollBackDue refused
		// it) has no job to keep.
		if in := onDeployed(in); !Suspended(in.Spec) {
			return deployedStep(in)
		}
		return Plan{Step: Steady, SnapshotsFirst: true}
	}
	if p, ok := rollBack(in); ok {
		return p
	}
	if Changed(spec, last) && snapshotPending(st) && !AheadOfSavepoint(spec, last) {
		// As upstream: a spec change waits for a manual or periodic
		// savepoint under way (followed meanwhile), unless
		// kubernetes.operator.job.upgrade.ignore-pending-savepoint.
		return Plan{Step: Steady, SnapshotsFirst: true}
	}
	switch {
	case Suspended(spec) && !Suspended(last):
		return begin(in, "Suspending the job")
	case !Suspended(spec) && Suspended(last) && redeploying(spec, last):
		// As upstream, a savepoint redeploy goes before the resume: the
		// job starts from initialSavepointPath, not the suspend's savepoint.
		return Plan{Step: Deploy, Restore: flinkconf.Restore{SavepointPath: spec.Job.InitialSavepointPath}}
	case !Suspended(spec) && Suspended(last):
		return Plan{Step: Deploy, Restore: restoreFor(st, UpgradeMode(spec))}
	case Suspended(spec) && Changed(spec, last):
		// A savepoint redeploy while suspended records initialSavepointPath
		// (Restore) as where the resume starts, as upstream does.
		return Plan{Step: RecordSpec, Restore: redeployRestore(spec, last)}
	case Suspended(spec):
		return Plan{Step: Nothing}
	}
	return deployedStep(in)
}

// deployedStep is the step of a spec deployed and not suspended: a failed
// job's restart, an unhealthy job's, what a change of the spec asks for,
// a lost JobManager's recovery, an ended job's shutdown, or the steady
// state.
func deployedStep(in Input) Plan {
	if restartingFailedJob(in) {
		return restartFailed(in)
	}
	if p, ok := unhealthyRestart(in); ok {
		return p
	}
	p := specChange(in)
	p.SnapshotsFirst = true
	return p
}

// DeployedSpec is the spec the cluster runs, whose settings govern it, as
// upstream's getDeployedSpec: on a rolled-back cluster (ROLLED_BACK) the
// last stable spec, not the failed one last (the last reconciled spec)
// holds; else last. A stable spec that does not decode (the rollback
// would have stalled on it) leaves last.
func DeployedSpec(st *v1beta1.FlinkDeploymentStatus, last *v1beta1.FlinkDeploymentSpec) *v1beta1.FlinkDeploymentSpec {
	rs := &st.ReconciliationStatus
	if rs.State != v1beta1.ReconciliationRolledBack {
		return last
	}
	if stable, _, err := DecodeSpec(rs.LastStableSpec); err == nil && stable != nil {
		return stable
	}
	return last
}

// onDeployed is in deciding by the deployed spec (DeployedSpec), taken as
// both the spec and the last reconciled one: unchanged.
func onDeployed(in Input) Input {
	deployed := DeployedSpec(in.Status, in.Last)
	in.Spec, in.Last = deployed, deployed
	return in
}

// unhealthyRestart is the restart of a job the cluster health check
// found unhealthy, as upstream: with the check enabled, the spec unchanged
// and the job not ended, when it can restore (stateless, or its HA
// metadata holds a checkpoint; read first).
func unhealthyRestart(in Input) (Plan, bool) {
	why, unhealthy := clusterhealth.Unhealthy(in.Status.ClusterInfo)
	if !unhealthy || !SettingOn(in.Last, flinkconf.KeyHealthCheck) || Ended(in.Status) || Changed(in.Spec, in.Last) {
		return Plan{}, false
	}
	if UpgradeMode(in.Last) != v1beta1.UpgradeModeStateless {
		switch {
		case in.HAMetadata == nil:
			return Plan{Step: ReadHAMetadata}, true
		case !*in.HAMetadata:
			return Plan{}, false
		}
	}
	return Plan{Step: RestartUnhealthy, Why: why, KeepHA: HAEnabled(in.Last)}, true
}

// specChange is the step for a deployed, running spec: what its change
// asks for, a lost JobManager's recovery, or the steady state.
func specChange(in Input) Plan {
	if Changed(in.Spec, in.Last) {
		switch d := Classify(in.Spec, in.Last); d {
		case DiffIgnore:
			return Plan{Step: RecordSpec, KeepState: true}
		case DiffScale:
			return scale(in)
		default:
			return begin(in, fmt.Sprintf("Spec changed (%s)", d))
		}
	}
	if Ended(in.Status) {
		// An ended job's JobManager is not recovered, and is shut down
		// once it outlived the TTL (Steady until then, looking again at
		// the deadline); what Flink reports of the job's latest
		// checkpoints is kept first, while it answers.
		left := shutdownLeft(in)
		switch {
		case !in.JobManager:
			return Plan{Step: Steady}
		case flinkAnswers(in) && !latestKept(in.Status):
			return Plan{Step: KeepLatest}
		case left <= 0:
			return Plan{Step: ShutDown}
		}
		return Plan{Step: Steady, After: left}
	}
	if in.Status.JobManagerDeploymentStatus == v1beta1.JobManagerMissing && !SettingOff(in.Last, flinkconf.KeyJMRecovery) {
		if UpgradeMode(in.Last) != v1beta1.UpgradeModeStateless && !HAEnabled(in.Last) {
			// As upstream: without HA the recreated JobManager would
			// start the job without its state.
			return Plan{Step: ManualRestore, Why: MsgNoRecoveryWithoutHA}
		}
		return Plan{Step: RecoverJobManager}
	}
	return Plan{Step: Steady}
}

// MsgNoRecoveryWithoutHA is the report of a stateful job's JobManager
// Deployment that went missing without HA, which upstream does not
// recover either.
const MsgNoRecoveryWithoutHA = "Could not recover lost jobmanager deployment without HA enabled: it would start the job without its state. " +
	"Manual restore required: redeploy from a known savepoint or checkpoint (initialSavepointPath and savepointRedeployNonce)."

// Ended reports an application whose job reached a globally terminal
// state.
func Ended(st *v1beta1.FlinkDeploymentStatus) bool { return terminalState(st.JobStatus.State) }

// terminalState reports a job state Flink never leaves: FINISHED, FAILED,
// CANCELED.
func terminalState(js v1beta1.JobStatusState) bool {
	switch js {
	case v1beta1.JobFinished, v1beta1.JobFailed, v1beta1.JobCanceled:
		return true
	}
	return false
}

// shutdownLeft is how long the ended job's JobManager may still stay: its
// shutdown TTL from the job's last state change (status.jobStatus.updateTime).
func shutdownLeft(in Input) time.Duration {
	ttl := DurationSetting(in.Last, flinkconf.KeyJMShutdownTTL)
	if ttl <= 0 {
		ttl = DefaultShutdownTTL
	}
	updated, err := strconv.ParseInt(in.Status.JobStatus.UpdateTime, 10, 64)
	if err != nil {
		return ttl // unknown: count from now
	}
	return time.UnixMilli(updated).Add(ttl).Sub(in.Now)
}

// begin is Begin, unless a failed upgrade savepoint holds the attempt
// back.
func begin(in Input, why string) Plan {
	info := in.Status.JobStatus.SavepointInfo
	if in.Problem == problem.SavepointFailed && info != nil && info.TriggerTimestamp != nil {
		if wait := time.UnixMilli(*info.TriggerTimestamp).Add(in.RetryAfterSavepointFailure).Sub(in.Now); wait > 0 {
			return Plan{Step: Wait, After: wait}
		}
	}
	return Plan{Step: Begin, Why: why}
}

// upgrade is the next step of an upgrade or suspend under way: capture the
// job's state by the upgrade mode, delete the old cluster, record it gone,
// then deploy the new spec or stop there for a suspend.
func upgrade(in Input) Plan {
	spec, last, st := in.Spec, in.Last, in.Status
	redeploy := redeploying(spec, last)
	if !Suspended(last) {
		if in.ClusterGone {
			return Plan{Step: RecordGone}
		}
		if !in.JobManager {
			return jobManagerGone(in, redeploy)
		}
		return capture(in, redeploy)
	}
	if Suspended(spec) {
		return Plan{Step: Suspend, Restore: redeployRestore(spec, last)}
	}
	if redeploy {
		return Plan{Step: DeployUpgrade, Restore: flinkconf.Restore{SavepointPath: spec.Job.InitialSavepointPath}}
	}
	return Plan{Step: DeployUpgrade, Restore: restoreFor(st, UpgradeMode(spec))}
}

// MsgJobManagerGone is upstream's report of a stateful upgrade whose
// JobManager is gone with no HA metadata to restore from.
const MsgJobManagerGone = "JobManager deployment is missing and HA data is not available to make stateful upgrades. " +
	"It is possible that the job has finished or terminally failed, or the configmaps have been deleted. Manual restore required."

// MsgNoSavepointKnown is upstream's report of an upgrade of an ended job
// with neither HA metadata nor a known savepoint to restore from.
const MsgNoSavepointKnown = "Job is in terminal state but last checkpoint is unknown, possibly due to an unrecoverable restore error. Manual restore required."

// jobManagerGone is the step of an upgrade whose old JobManager is gone
// (shut down after the job ended, or deleted): delete what is left of the
// cluster. A stateful upgrade that no savepoint captured restores from
// the HA metadata, kept; without it, as upstream, an ended job restarts
// from its newest known savepoint, and anything else needs a manual
// restore rather than starting empty.
func jobManagerGone(in Input, redeploy bool) Plan {
	mode := UpgradeMode(in.Spec)
	stateful := mode == v1beta1.UpgradeModeLastState || mode == v1beta1.UpgradeModeSavepoint
	if !stateful || redeploy || in.Status.JobStatus.UpgradeSavepointPath != "" || restartingFailedJob(in) || EmptyStateRecorded(in.Status) {
		// Nothing to restore, initialSavepointPath, a captured savepoint,
		// where restartFailedJob chose, or a cancelled job found empty.
		return Plan{Step: Delete}
	}
	if HAEnabled(in.Last) {
		switch {
		case in.HAMetadata == nil:
			return Plan{Step: ReadHAMetadata}
		case *in.HAMetadata:
			return Plan{Step: Delete, KeepHA: true}
		}
	}
	if p, ok := endedRestore(in); ok {
		return p
	}
	if Ended(in.Status) {
		return Plan{Step: ManualRestore, Why: MsgNoSavepointKnown}
	}
	return Plan{Step: ManualRestore, Why: MsgJobManagerGone}
}

// endedRestore is, as upstream decides it, the step of a stateful upgrade
// of a job that ended, with no HA metadata to restore from: record where
// it starts; ok is false when the job did not end or nothing of its state
// is known. Upstream records the latest checkpoint Flink reports of a
// globally terminal job (SnapshotObserver.observeLatestCheckpoint) and
// restores from it: the newer of it and the newest savepoint recorded
// (endedState) starts the job, read while the JobManager answers, else
// as it was kept before the JobManager went (KeptLatest). With nothing
// kept, the newest savepoint recorded.
func endedRestore(in Input) (p Plan, ok bool) {
	st := in.Status
	if !Ended(st) {
		return Plan{}, false
	}
	recorded, at := NewestRecorded(&st.JobStatus, st.ReconciliationStatus.ReconciliationTimestamp)
	latest, known := endedLatest(in)
	if !known {
		return Plan{Step: RecordSavepoint, Restore: flinkconf.Restore{SavepointPath: recorded}}, recorded != ""
	}
	return endedState(latest, recorded, at)
}

// flinkAnswers reports a JobManager there and ready, which can say what
// it retained of its job.
func flinkAnswers(in Input) bool {
	return in.JobManager && in.Status.JobManagerDeploymentStatus == v1beta1.JobManagerReady && in.Status.JobStatus.JobID != ""
}

// endedState is the step that records where the job that ended starts
// again: the newer of its latest retained checkpoint as Flink reports it
// (latest, nil until read) and the newest savepoint recorded (recorded,
// taken at at); a latest checkpoint without a path needs a manual
// restore; ok is false when nothing is known.
func endedState(latest *api.LatestCheckpoints, recorded string, at time.Time) (p Plan, ok bool) {
	if latest == nil {
		return Plan{Step: ReadCheckpoints}, true
	}
	switch path, from := checkpoints.Newest(*latest, recorded, at); from {
	case checkpoints.FromFlink:
		return Plan{Step: RecordCheckpoint, Restore: flinkconf.Restore{SavepointPath: path}}, true
	case checkpoints.FromRecorded:
		return Plan{Step: RecordSavepoint, Restore: flinkconf.Restore{SavepointPath: path}}, true
	case checkpoints.NotAddressable:
		return Plan{Step: ManualRestore, Why: MsgCheckpointNotAddressable}, true
	}
	return Plan{}, false
}

// capture is the step that saves the running job's state by the upgrade
// mode before its cluster is deleted.
func capture(in Input, redeploy bool) Plan {
	spec, st := in.Spec, in.Status
	mode := UpgradeMode(spec)
	switch {
	case restartingFailedJob(in):
		// restartFailedJob chose where the job starts, and Flink removed
		// the failed job's HA metadata.
		return Plan{Step: Delete}
	case !Changed(spec, in.Last) && (HAEnabled(in.Last) || mode == v1beta1.UpgradeModeStateless):
		// A restart of the same spec (an unhealthy job): from the HA
		// metadata, kept. Without HA a stateful job's state is captured
		// as for a change (a spec changed back mid-upgrade).
		return Plan{Step: Delete, KeepHA: HAEnabled(in.Last)}
	case redeploy || mode == v1beta1.UpgradeModeStateless:
		return Plan{Step: Delete, CancelJob: true}
	case mode == v1beta1.UpgradeModeLastState:
		if p, ok := byCancellation(in); ok {
			return p
		}
		switch {
		case st.JobStatus.UpgradeSavepointPath != "":
			// A savepoint (or, by cancellation, a checkpoint) captured
			// the job: go on from it, savepoint mode.
		case !HAEnabled(in.Last) && upgradeSavepointUnderWay(st):
			// The latest checkpoint was too old for a cancellation: follow
			// the savepoint taken instead.
		case !HAEnabled(in.Last) && !Ended(st):
			// Without HA only a cancellation keeps the state: wait, as
			// upstream, until Flink can cancel the job.
			return Plan{Step: Wait, After: in.ProgressCheckInterval, Why: "waiting for a job Flink can cancel: without HA, a last-state upgrade takes the state by cancelling the job"}
		case in.HAMetadata == nil:
			return Plan{Step: ReadHAMetadata}
		case *in.HAMetadata && !runningJob(st):
			return Plan{Step: Delete, KeepHA: true}
		case *in.HAMetadata:
			// A fresh enough checkpoint wins, even over a savepoint under
			// way (the mode was switched to last-state mid-upgrade).
			if p, fresh := lastStateFresh(in, Plan{Step: Delete, KeepHA: true}); fresh {
				return p
			}
			// Its latest checkpoint is too old: a savepoint instead.
		case !runningJob(st) && !upgradeSavepointUnderWay(st):
			if p, ok := endedRestore(in); ok {
				return p
			}
			return Plan{Step: ManualRestore}
		}
		// No checkpoint in the HA metadata yet and a savepoint directory
		// set (where upstream cancels the job: the savepoint holds newer
		// state, see docs/DESIGN.md),
		// or one too old (as upstream), but the job runs: a savepoint
		// instead (savepoint mode from here).
	}
	// Savepoint mode.
	if st.JobStatus.UpgradeSavepointPath != "" {
		return Plan{Step: Delete}
	}
	if info := st.JobStatus.SavepointInfo; info != nil && info.TriggerID != "" && info.TriggerType == v1beta1.TriggerUpgrade {
		return Plan{Step: PollSavepoint}
	}
	if runningJob(st) {
		return Plan{Step: TriggerSavepoint}
	}
	// The job does not run, so no savepoint can be taken: fall back to
	// the latest checkpoint in the HA metadata if there is one (unless
	// kubernetes.operator.job.upgrade.last-state-fallback.enabled is off).
	if HAEnabled(in.Last) && !SettingOff(in.Last, flinkconf.KeyLastStateFallback) {
		switch {
		case in.HAMetadata == nil:
			return Plan{Step: ReadHAMetadata}
		case *in.HAMetadata:
			return Plan{Step: Delete, KeepHA: true, Fallback: true}
		}
	}
	if p, ok := endedRestore(in); ok {
		return p
	}
	return Plan{Step: Blocked}
}

// AheadOfSavepoint reports a spec change that does not wait for a manual
// or periodic savepoint under way, as upstream's readyToReconcile lets it
// with kubernetes.operator.job.upgrade.ignore-pending-savepoint (of the
// last reconciled spec): the savepoint is looked at once, not waited for,
// and the change's steps run.
func AheadOfSavepoint(spec, last *v1beta1.FlinkDeploymentSpec) bool {
	return last != nil && Changed(spec, last) && SettingOn(last, flinkconf.KeyIgnorePendingSavepoint)
}

// snapshotPending reports a manual or periodic savepoint under way.
func snapshotPending(st *v1beta1.FlinkDeploymentStatus) bool {
	info := st.JobStatus.SavepointInfo
	return info != nil && info.TriggerID != "" && (info.TriggerType == v1beta1.TriggerManual || info.TriggerType == v1beta1.TriggerPeriodic)
}

// lastStateFresh is the step of a last-state upgrade of a running job
// from its latest checkpoint (keep: from the HA metadata, or by
// cancellation), as upstream decides it with
// kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age:
// without it, or for a job started within it, or with a checkpoint
// completed within it, keep; with one pending within it, wait for it;
// fresh is false when the latest checkpoint is too old (a savepoint is
// taken instead).
func lastStateFresh(in Input, keep Plan) (p Plan, fresh bool) {
	maxAge := DurationSetting(in.Spec, flinkconf.KeyLastStateMaxCheckpointAge)
	switch CheckpointFreshness(maxAge, in.Now, in.Status.JobStatus.StartTime, in.Checkpoints) {
	case Fresh:
		return keep, true
	case ReadFirst:
		return Plan{Step: ReadCheckpoints}, true
	case PendingFresh:
		return Plan{Step: Wait, After: in.ProgressCheckInterval, Why: "waiting for the pending checkpoint before the last-state upgrade"}, true
	}
	return Plan{}, false
}

// Freshness is whether a running job's latest checkpoint is recent
// enough for a last-state upgrade from it, by
// kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age.
type Freshness int

const (
	// Fresh: no maximum age, a job started within it, or a checkpoint
	// completed within it: the upgrade restores from the latest one.
	Fresh Freshness = iota
	// ReadFirst: the job's checkpoint times must be read to decide.
	ReadFirst
	// PendingFresh: only a checkpoint pending within the age: wait for it.
	PendingFresh
	// Stale: the latest checkpoint is too old: a savepoint captures the job.
	Stale
)

// CheckpointFreshness decides, as upstream's
// getUpgradeModeBasedOnStateAge, how fresh the latest checkpoint of a job
// started at startTime (epoch milliseconds) is, by maxAge (none when not
// positive); cp is nil when not read yet.
func CheckpointFreshness(maxAge time.Duration, now time.Time, startTime string, cp *checkpoints.Times) Freshness {
	if maxAge <= 0 {
		return Fresh
	}
	within := func(t time.Time) bool { return !t.IsZero() && now.Add(-maxAge).Before(t) }
	if started, err := strconv.ParseInt(startTime, 10, 64); err == nil && within(time.UnixMilli(started)) {
		return Fresh
	}
	switch {
	case cp == nil:
		return ReadFirst
	case within(cp.Completed):
		return Fresh
	case within(cp.Pending):
		return PendingFresh
	}
	return Stale
}

// cancelling reports a job being cancelled, or cancelled, during a
// last-state upgrade, before its latest checkpoint is recorded.
func cancelling(st *v1beta1.FlinkDeploymentStatus) bool {
	return st.JobStatus.UpgradeSavepointPath == "" &&
		(st.JobStatus.State == v1beta1.JobCancelling || st.JobStatus.State == v1beta1.JobCanceled)
}

// byCancellation is the step of a last-state upgrade that goes by
// cancelling the job, as upstream's allowLastStateCancel decides it; ok is
// false for one that does not (it restores from the HA metadata, or a
// savepoint captures the job). By cancellation go: a job cancelled or
// being cancelled (its latest checkpoint, read from Flink, is where it
// starts again: Flink drops the HA metadata of a cancelled job); with
// last-state.job-cancel.enabled, a running job; without HA (upstream
// dropped the HA requirement of last-state in FLINK-35414), any job Flink
// can cancel; with HA whose metadata holds no checkpoint, a job Flink can
// cancel that does not run, and a running one when no savepoint
// directory is set (with one, a savepoint captures it: it holds newer
// state than any checkpoint; see docs/DESIGN.md). A
// running job is cancelled only if its latest checkpoint is within
// last-state.max.allowed.checkpoint.age, as upstream: else a savepoint
// captures it (the validation asks for a savepoint directory with that
// setting).
func byCancellation(in Input) (p Plan, ok bool) {
	st := in.Status
	if upgradeSavepointUnderWay(st) || (!cancelling(st) && !cancellable(st)) {
		return Plan{}, false
	}
	switch {
	case !HAEnabled(in.Last) || cancelling(st):
	case SettingOn(in.Spec, flinkconf.KeyLastStateCancel) && runningJob(st):
	case in.HAMetadata == nil:
		return Plan{Step: ReadHAMetadata}, true
	case *in.HAMetadata:
		return Plan{}, false
	case runningJob(st) && SavepointDirSet(in.Spec, in.Last):
		// Upstream cancels here too; a savepoint holds newer state.
		return Plan{}, false
	}
	if !runningJob(st) {
		return cancelForLastState(in), true
	}
	if p, fresh := lastStateFresh(in, Plan{Step: CancelJob}); fresh {
		return p, true
	}
	return Plan{Step: TriggerSavepoint}, true
}

// cancellable reports a job Flink can cancel, as upstream's
// isJobCancellable: its JobManager answers and it is neither reconciling
// nor ended.
func cancellable(st *v1beta1.FlinkDeploymentStatus) bool {
	switch st.JobStatus.State {
	case "", v1beta1.JobReconciling:
		return false
	}
	return st.JobManagerDeploymentStatus == v1beta1.JobManagerReady && !Ended(st)
}

// cancelForLastState is the step of a last-state upgrade by cancellation,
// as upstream's lastStateUsingCancel: cancel the running job, wait until
// it is cancelled, read its latest checkpoint (retained on cancellation)
// and record where it starts again; the deletion and deploy then go as
// for a savepoint. It starts from the newer of that checkpoint and the
// newest savepoint recorded (endedState, as for any job that ended): the
// savepoint when Flink reports nothing of the job, as upstream's
// restoreJob falls back to lastSavepoint, never one older than a
// checkpoint Flink reports. A cancelled job of which neither is known
// never had state to keep: as upstream, it starts empty. One whose latest
// checkpoint has no path, newer than any savepoint recorded, needs a
// manual restore.
func cancelForLastState(in Input) Plan {
	switch st := in.Status; {
	case EmptyStateRecorded(st) && st.JobStatus.State == v1beta1.JobCanceled:
		// The cancelled job has no state: nothing to keep.
		return Plan{Step: Delete}
	case st.JobStatus.State != v1beta1.JobCanceled && st.JobStatus.State != v1beta1.JobCancelling:
		return Plan{Step: CancelJob}
	case st.JobStatus.State == v1beta1.JobCancelling:
		return Plan{Step: Wait, After: in.ProgressCheckInterval, Why: "waiting for the job to be cancelled for the last-state upgrade", Stalled: cancelStalled(in)}
	}
	st := in.Status
	recorded, at := NewestRecorded(&st.JobStatus, st.ReconciliationStatus.ReconciliationTimestamp)
	if p, ok := endedState(in.Latest, recorded, at); ok {
		return p
	}
	return Plan{Step: RecordEmptyState}
}

// MsgCheckpointNotAddressable is the report of a job cancelled for a
// last-state upgrade whose latest checkpoint Flink names without a path.
const MsgCheckpointNotAddressable = "Latest checkpoint not externally addressable (no path: is state.checkpoints.dir set?). " +
	"Manual restore required: redeploy from a known savepoint or checkpoint (initialSavepointPath and savepointRedeployNonce)."

// InfoUpgradeRestore is the status.clusterInfo key under which an upgrade
// records, until the old cluster is gone, that the job it cancelled has
// no state to restore (InfoNoState): the decision needs Flink's answer,
// which goes with the old JobManager.
const InfoUpgradeRestore = "upgrade-restore"

// InfoNoState is InfoUpgradeRestore's value for a job with no state.
const InfoNoState = "no-state"

// EmptyStateRecorded reports an upgrade that recorded its cancelled job
// as having no state to restore (RecordEmptyState).
func EmptyStateRecorded(st *v1beta1.FlinkDeploymentStatus) bool {
	return st.ReconciliationStatus.State == v1beta1.ReconciliationUpgrading && st.ClusterInfo[InfoUpgradeRestore] == InfoNoState
}

// DefaultCancelTimeout is upstream's flink.client.cancel.timeout.
const DefaultCancelTimeout = time.Minute

// cancelStalled says, once a job cancelled for a last-state upgrade has
// been CANCELLING longer than flink.client.cancel.timeout, why the upgrade
// does not go on; "" before.
func cancelStalled(in Input) string {
	return CancelStalled(in.Status.JobStatus.UpdateTime, DurationSetting(in.Spec, flinkconf.KeyCancelTimeout), in.Now, "the last-state upgrade")
}

// CancelStalled says, once a job that what (an upgrade) cancelled has been
// CANCELLING since updateTime (status.jobStatus.updateTime, epoch
// milliseconds) longer than timeout (flink.client.cancel.timeout;
// DefaultCancelTimeout when not positive), why the upgrade does not go
// on; "" before, or when updateTime does not parse.
func CancelStalled(updateTime string, timeout time.Duration, now time.Time, what string) string {
	since, err := strconv.ParseInt(updateTime, 10, 64)
	if err != nil {
		return ""
	}
	if timeout <= 0 {
		timeout = DefaultCancelTimeout
	}
	start := time.UnixMilli(since)
	if now.Sub(start) <= timeout {
		return ""
	}
	// The message does not change while the wait lasts: one status write.
	return fmt.Sprintf("the job has been CANCELLING since %s, when %s cancelled it, longer than %s (%s); "+
		"the upgrade goes on once Flink reports it CANCELED: look at the JobManager's log",
		start.UTC().Format(time.RFC3339), what, timeout, flinkconf.KeyCancelTimeout)
}

// runningJob reports a ready JobManager running the job, which can take a
// savepoint.
func runningJob(st *v1beta1.FlinkDeploymentStatus) bool {
	return st.JobManagerDeploymentStatus == v1beta1.JobManagerReady && st.JobStatus.State == v1beta1.JobRunning
}

// upgradeSavepointUnderWay reports an upgrade savepoint triggered or taken.
func upgradeSavepointUnderWay(st *v1beta1.FlinkDeploymentStatus) bool {
	info := st.JobStatus.SavepointInfo
	return st.JobStatus.UpgradeSavepointPath != "" || (info != nil && info.TriggerID != "" && info.TriggerType == v1beta1.TriggerUpgrade)
}

// redeploying reports a changed savepointRedeployNonce: the new cluster
// starts from initialSavepointPath, whatever the job's state.
func redeploying(spec, last *v1beta1.FlinkDeploymentSpec) bool {
	return last.Job != nil && spec.Job != nil && v1beta1.NonceAsks(spec.Job.SavepointRedeployNonce, last.Job.SavepointRedeployNonce)
}

// restartingFailedJob reports a job that failed for good, with
// kubernetes.operator.job.restart.failed on and the spec unchanged since it
// was deployed (a new spec is an upgrade instead).
func restartingFailedJob(in Input) bool {
	return in.Status.JobStatus.State == v1beta1.JobFailed && !Suspended(in.Last) &&
		SettingOn(in.Last, flinkconf.KeyRestartFailed) && !Changed(in.Spec, in.Last)
}

// restartFailed is the restart of a job that failed for good, as upstream
// does: in the savepoint and last-state modes from the failed job's latest
// state (endedState: the newer of its latest checkpoint, read or kept
// before its JobManager went, and the newest savepoint recorded), or the
// newest savepoint recorded when neither is known; else (stateless, or
// nothing known) with empty state, since Flink removed the failed job's
// HA metadata.
func restartFailed(in Input) Plan {
	st := in.Status
	if UpgradeMode(in.Last) == v1beta1.UpgradeModeStateless {
		return Plan{Step: RestartFailed}
	}
	recorded, at := NewestRecorded(&st.JobStatus, st.ReconciliationStatus.ReconciliationTimestamp)
	latest, known := endedLatest(in)
	if !known {
		return Plan{Step: RestartFailed, Restore: flinkconf.Restore{SavepointPath: recorded}}
	}
	switch p, ok := endedState(latest, recorded, at); {
	case !ok:
		return Plan{Step: RestartFailed}
	case p.Step == RecordCheckpoint || p.Step == RecordSavepoint:
		return Plan{Step: RestartFailed, Restore: p.Restore}
	default:
		return p
	}
}

// NewestRecorded is the newest restore point the status records
// (NewestRestorePoint) and, when it is the last savepoint, when that was
// taken (zero else).
func NewestRecorded(js *v1beta1.JobStatus, reconciledAt int64) (string, time.Time) {
	path := NewestRestorePoint(js, reconciledAt)
	if info := js.SavepointInfo; path != "" && info != nil && info.LastSavepoint != nil && info.LastSavepoint.Location == path {
		return path, time.UnixMilli(info.LastSavepoint.TimeStamp)
	}
	return path, time.Time{}
}

// NewestRestorePoint is the newest savepoint known of a deployed job, ""
// for none: the path its deployment started from (upgradeSavepointPath,
// which stays after the deployment, as upstream keeps it), or the last
// savepoint when that one completed after the deployment (a periodic or
// manual savepoint of the running job). The path was set before the spec
// was recorded (reconciledAt, epoch milliseconds) and the job started:
// a savepoint completed after either is newer.
func NewestRestorePoint(js *v1beta1.JobStatus, reconciledAt int64) string {
	path := js.UpgradeSavepointPath
	info := js.SavepointInfo
	if info == nil || info.LastSavepoint == nil || info.LastSavepoint.Location == "" || info.LastSavepoint.Location == path {
		return path
	}
	since := reconciledAt
	if started, err := strconv.ParseInt(js.StartTime, 10, 64); err == nil && started > 0 && (since <= 0 || started < since) {
		since = started
	}
	if path == "" || info.LastSavepoint.TimeStamp > since {
		return info.LastSavepoint.Location
	}
	return path
}

// redeployRestore is where a savepoint redeploy starts
// (initialSavepointPath), none when the nonce did not change.
func redeployRestore(spec, last *v1beta1.FlinkDeploymentSpec) flinkconf.Restore {
	if !redeploying(spec, last) {
		return flinkconf.Restore{}
	}
	return flinkconf.Restore{SavepointPath: spec.Job.InitialSavepointPath}
}

// restoreFor is where a (re)deployed job starts: the upgrade's savepoint
// in savepoint mode, the HA metadata in last-state mode (Flink finds it by
// the cluster id; no path), empty state when stateless.
func restoreFor(st *v1beta1.FlinkDeploymentStatus, mode v1beta1.UpgradeMode) flinkconf.Restore {
	if mode == v1beta1.UpgradeModeStateless {
		return flinkconf.Restore{}
	}
	return flinkconf.Restore{SavepointPath: st.JobStatus.UpgradeSavepointPath}
}

// rollBack is the rollback of a deployed spec when one is due
// (rollBackDue): a last-state job's restores from Flink's HA metadata,
// read first, and there is none without it.
func rollBack(in Input) (Plan, bool) {
	if !rollBackDue(in) {
		return Plan{}, false
	}
	mode := UpgradeMode(in.Last)
	switch {
	case mode == v1beta1.UpgradeModeLastState && in.HAMetadata == nil:
		return Plan{Step: ReadHAMetadata}, true
	case mode == v1beta1.UpgradeModeLastState && !*in.HAMetadata:
		return Plan{}, false
	}
	return Plan{Step: RollBack, Restore: restoreFor(in.Status, mode)}, true
}

// rollBackDue reports a deployed spec that has not become stable within
// its readiness timeout, with rollbacks enabled and a stable spec to go
// back to, as upstream's shouldRollBack: not when the spec changed since
// (the change is applied instead), nor back to a suspended job or across
// a Flink version change (the stable spec's job would restore state the
// new version wrote). A last-state job's rollback also needs Flink's HA
// metadata (Next reads it): without it the stable spec's job would start
// empty.
func rollBackDue(in Input) bool {
	st, last := in.Status, in.Last
	rs := st.ReconciliationStatus
	if rs.State != v1beta1.ReconciliationDeployed || rs.LastStableSpec == "" || rs.LastStableSpec == rs.LastReconciledSpec {
		return false
	}
	if !SettingOn(last, flinkconf.KeyRollbackEnabled) || Stable(st, last) || Changed(in.Spec, last) {
		return false
	}
	stable, _, err := DecodeSpec(rs.LastStableSpec)
	if err != nil || Suspended(stable) || stable.FlinkVersion != last.FlinkVersion {
		return false
	}
	return in.Now.Sub(time.UnixMilli(rs.ReconciliationTimestamp)) > ReadinessTimeout(last, in.ReadinessTimeout)
}
