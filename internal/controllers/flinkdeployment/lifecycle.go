package flinkdeployment

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/clusterhealth"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
	"github.com/flink-hub/flink-hub/internal/flinkrest/checkpoints"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// maxStepsPerReconcile bounds the steps one reconcile runs; a plan that
// does not settle within it is a bug, reported as an error.
const maxStepsPerReconcile = 10

// reconcileSpec brings the cluster to the spec one planned step at a time:
// plan.Next decides from the spec, the status and what was observed; the
// step runs, persisting what must survive a crash; and the next step is
// asked for, until one waits or the spec is reached.
func (r *Reconciler) reconcileSpec(ctx context.Context, s *state) error {
	var haMetadata *bool
	var cps *checkpoints.Times
	var latest *api.LatestCheckpoints
	clusterGone, scaleRefused := false, ""
	for range maxStepsPerReconcile {
		p := plan.Next(plan.Input{
			Spec: &s.fd.Spec, Last: s.lastSpec, Status: &s.fd.Status, Problem: s.problem.Reason,
			JobManager: s.jobManager != nil, ClusterGone: clusterGone, HAMetadata: haMetadata, Checkpoints: cps, Latest: latest, ScaleRefused: scaleRefused,
			Now: r.now(), ReadinessTimeout: r.Options.ReadinessTimeout, RetryAfterSavepointFailure: r.Options.ReconcileInterval,
			ProgressCheckInterval: r.Options.ProgressCheckInterval,
		})
		log.FromContext(ctx).V(1).Info("reconcile step", "step", p.Step)
		if p.SnapshotsFirst {
			again, err := r.snapshotsFirst(ctx, s, p)
			if err != nil {
				return err
			}
			if again {
				continue
			}
		}
		switch p.Step {
		case plan.ReadHAMetadata:
			has, err := r.hasHAMetadata(ctx, s)
			if err != nil {
				return err
			}
			haMetadata = &has
			continue
		case plan.ReadCheckpoints:
			stats, err := r.checkpointStatistics(ctx, s)
			if err != nil {
				return err
			}
			times := checkpoints.Of(stats)
			cps, latest = &times, &stats.Latest
			continue
		case plan.KeepLatest:
			if err := r.keepLatest(ctx, s); err != nil {
				return err
			}
			continue
		case plan.Delete:
			if err := r.deleteOldCluster(ctx, s, p); err != nil {
				return err
			}
			clusterGone = true
			continue
		case plan.ScaleInPlace:
			// Refused, the change is planned again: as an upgrade.
			why, err := r.scaleInPlace(ctx, s)
			if err != nil || why == "" {
				return err
			}
			scaleRefused = why
			continue
		}
		more, err := r.runStep(ctx, s, p)
		if err != nil || !more {
			return err
		}
	}
	return fmt.Errorf("the reconcile did not settle within %d steps", maxStepsPerReconcile)
}

// snapshotsFirst runs the manual snapshots before step p: they compare
// the nonce with the last reconciled spec, so they run before it is
// recorded. again says the step is to be planned again: a spec change
// that waited for a savepoint that just ended goes on now, not a reconcile
// interval later under an observedGeneration that claims it was seen. A
// spec change that goes ahead of a savepoint under way
// (plan.AheadOfSavepoint) looks at it once: completed, it is recorded;
// still in progress, the step runs anyway.
func (r *Reconciler) snapshotsFirst(ctx context.Context, s *state, p plan.Plan) (again bool, err error) {
	pending := savepointPending(&s.fd.Status)
	held := p.Step == plan.Steady && pending
	ahead := pending && plan.AheadOfSavepoint(&s.fd.Spec, s.lastSpec)
	if err := r.manualSavepoint(ctx, s); err != nil && (!ahead || !errors.Is(err, ErrSavepointInProgress)) {
		return false, err
	}
	if err := r.manualCheckpoint(ctx, s); err != nil {
		return false, err
	}
	return held && !savepointPending(&s.fd.Status) && plan.Changed(&s.fd.Spec, s.lastSpec), nil
}

// clearEndedWaits ends the stall reports of waits that are over before
// step p runs; a wait that lasts reports itself again.
func clearEndedWaits(s *state, p plan.Plan) {
	st := &s.fd.Status
	if p.Stalled == "" {
		// The wait that was reported is over.
		s.clear(problem.UpgradeStalled)
	}
	if p.Step != plan.ShutDown {
		// No JobManager deletion is waited for (a ShutDown says again).
		s.clear(problem.DeletionStalled)
	}
	if info := st.JobStatus.SavepointInfo; info == nil || info.TriggerID == "" {
		// No savepoint pending: none can be stalled.
		s.clear(problem.SavepointStalled)
	}
	if info := st.JobStatus.CheckpointInfo; info == nil || info.TriggerID == "" {
		s.clear(problem.CheckpointStalled)
	}
}

// runStep runs one step of p and says whether another step follows in
// this reconcile.
func (r *Reconciler) runStep(ctx context.Context, s *state, p plan.Plan) (bool, error) {
	st := &s.fd.Status
	clearEndedWaits(s, p)
	switch p.Step {
	case plan.Nothing:
		return false, nil
	case plan.Steady:
		return false, r.steady(ctx, s, p)
	case plan.ShutDown:
		return false, r.shutDown(ctx, s)
	case plan.RecordSpec:
		if p.Restore.SavepointPath != "" {
			// A savepoint redeploy while suspended: the resume starts there.
			st.JobStatus.UpgradeSavepointPath = p.Restore.SavepointPath
		}
		if p.KeepState {
			return false, r.recordKeepingState(s)
		}
		return false, r.recordSpec(s, v1beta1.ReconciliationDeployed, p.First)
	case plan.Deploy:
		return false, r.deployAndRecord(ctx, s, p, deployText(p))
	case plan.Scale:
		if err := r.deploy(ctx, s, flinkconf.Restore{}); err != nil {
			return false, err
		}
		r.event(s, corev1.EventTypeNormal, ReasonScaling, "Resizing the TaskManagers of the reactive job")
		return false, r.recordSpec(s, v1beta1.ReconciliationDeployed, false)
	case plan.RecoverJobManager, plan.RestartUnhealthy, plan.RestartFailed:
		if st.ReconciliationStatus.State == v1beta1.ReconciliationRolledBack {
			return false, r.restartRolledBack(ctx, s, p)
		}
	}
	return r.runDeployedStep(ctx, s, p)
}

// runDeployedStep runs the steps of a deployed spec after runStep's: a
// recovery or restart, an upgrade's steps.
func (r *Reconciler) runDeployedStep(ctx context.Context, s *state, p plan.Plan) (bool, error) {
	st := &s.fd.Status
	switch p.Step {
	case plan.RecoverJobManager:
		// Deleted behind our back: recreated from the last reconciled
		// spec, as upstream's deployment recovery does; HA metadata, if
		// any, restores the job.
		r.event(s, corev1.EventTypeWarning, ReasonRecoverDeployment, "JobManager deployment missing, recreating it")
		return false, r.deploy(ctx, s, flinkconf.Restore{})
	case plan.Begin:
		beginUpgrade(st)
		st.JobStatus.UpgradeSavepointPath = ""
		r.event(s, corev1.EventTypeNormal, "SpecChanged", p.Why)
		return true, r.persist(ctx, s)
	case plan.CancelJob:
		return false, r.cancelForLastState(ctx, s)
	case plan.RecordCheckpoint:
		st.JobStatus.UpgradeSavepointPath = p.Restore.SavepointPath
		r.event(s, corev1.EventTypeNormal, "UpgradeFromCheckpoint", fmt.Sprintf("The %s job's latest checkpoint starts the upgrade: %s", st.JobStatus.State, p.Restore.SavepointPath))
		return true, r.persist(ctx, s)
	case plan.RecordSavepoint:
		st.JobStatus.UpgradeSavepointPath = p.Restore.SavepointPath
		s.clear(problem.ManualRestoreRequired, problem.UpgradeBlocked)
		r.event(s, corev1.EventTypeWarning, "UpgradeFromSavepoint", "The job is "+string(st.JobStatus.State)+
			" and there is no HA metadata to restore from: its newest known savepoint starts the upgrade: "+p.Restore.SavepointPath+latestUnknown(s))
		return true, r.persist(ctx, s)
	case plan.RestartUnhealthy:
		st.ReconciliationStatus.State = v1beta1.ReconciliationUpgrading
		st.JobStatus.UpgradeSavepointPath = ""
		clusterhealth.Forget(st.ClusterInfo)
		r.event(s, corev1.EventTypeWarning, ReasonRestartUnhealthy, p.Why)
		return true, r.persist(ctx, s)
	case plan.RestartFailed:
		st.ReconciliationStatus.State = v1beta1.ReconciliationUpgrading
		st.JobStatus.UpgradeSavepointPath = p.Restore.SavepointPath
		r.event(s, corev1.EventTypeNormal, ReasonRestartFailedJob, "Restarting the failed job"+fromText(p.Restore))
		return true, r.persist(ctx, s)
	}
	return r.runUpgradeStep(ctx, s, p)
}

// clusterInfoUpgradeFrom is the status.clusterInfo key under which an
// upgrade begun on a rolled-back cluster records ROLLED_BACK until the
// old cluster is gone: an upgrade aborted before (its savepoint failed,
// abortUpgrade) returns to it. The status alone does not tell a
// rolled-back cluster, whose lastReconciledSpec is the spec that failed,
// from a deployed one not stable yet. An upgrade begun DEPLOYED records
// nothing.
const clusterInfoUpgradeFrom = "upgrade-from"

// beginUpgrade marks st UPGRADING, recording ROLLED_BACK when it leaves
// that state (clusterInfoUpgradeFrom).
func beginUpgrade(st *v1beta1.FlinkDeploymentStatus) {
	if st.ReconciliationStatus.State == v1beta1.ReconciliationRolledBack {
		if st.ClusterInfo == nil {
			st.ClusterInfo = map[string]string{}
		}
		st.ClusterInfo[clusterInfoUpgradeFrom] = string(v1beta1.ReconciliationRolledBack)
	}
	st.ReconciliationStatus.State = v1beta1.ReconciliationUpgrading
}

// upgradeAborted returns st, UPGRADING, to the state its upgrade began
// from (beginUpgrade): the old cluster runs on as before.
func upgradeAborted(st *v1beta1.FlinkDeploymentStatus) {
	from := v1beta1.ReconciliationState(st.ClusterInfo[clusterInfoUpgradeFrom])
	if from != v1beta1.ReconciliationRolledBack {
		from = v1beta1.ReconciliationDeployed
	}
	st.ReconciliationStatus.State = from
	delete(st.ClusterInfo, clusterInfoUpgradeFrom)
}

// shutDown deletes the cluster of a job that ended, its JobManager past
// its shutdown TTL, keeping the HA metadata.
func (r *Reconciler) shutDown(ctx context.Context, s *state) error {
	st := &s.fd.Status
	// Said before the deletion, which may end this reconcile waiting for
	// the JobManager to go; the next one finds it missing and, the job
	// having ended, leaves it so.
	r.event(s, corev1.EventTypeNormal, ReasonShutDown, fmt.Sprintf("The job ended (%s); its JobManager outlived %s and is shut down, HA metadata kept", st.JobStatus.State, flinkconf.KeyJMShutdownTTL))
	// What was kept of the job's latest checkpoints (KeepLatest) is
	// written before the JobManager, which reported it, goes.
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	if err := r.deleteCluster(ctx, s, true, "the shutdown of the ended job's cluster"); err != nil {
		return err
	}
	st.JobManagerDeploymentStatus = v1beta1.JobManagerMissing
	return r.persist(ctx, s)
}

// steady looks again when the plan says and takes the periodic snapshots
// that are due.
func (r *Reconciler) steady(ctx context.Context, s *state, p plan.Plan) error {
	if p.After > 0 && (s.next == 0 || p.After < s.next) {
		s.next = p.After
	}
	if err := r.periodicSavepoint(ctx, s); err != nil {
		return err
	}
	if err := r.periodicCheckpoint(ctx, s); err != nil {
		return err
	}
	r.trimHistory(ctx, s)
	return nil
}

// cancelForLastState cancels the job for a last-state upgrade from its
// latest checkpoint (job.upgrade.last-state.job-cancel.enabled, no HA, or
// no checkpoint in the HA metadata of a job that does not run or for which
// no savepoint directory is set) and waits for it to stop.
func (r *Reconciler) cancelForLastState(ctx context.Context, s *state) error {
	st := &s.fd.Status
	if err := confirmCurrent(ctx, s, "cancelling the job"); err != nil {
		return err
	}
	if err := r.supersedePendingSavepoint(ctx, s); err != nil {
		return err
	}
	jm, err := r.JobManagers(s.clusterName, s.cluster.GetConfig(), s.fd)
	if err != nil {
		return err
	}
	if err := jm.CancelJob(ctx, st.JobStatus.JobID); err != nil {
		return fmt.Errorf("cancel the job for the last-state upgrade: %w", err)
	}
	st.JobStatus.State = v1beta1.JobCancelling
	// updateTime is when the job's state changed: the cancel timeout
	// counts from here.
	st.JobStatus.UpdateTime = strconv.FormatInt(r.now().UnixMilli(), 10)
	why := flinkconf.KeyLastStateCancel
	switch {
	case !plan.HAEnabled(s.lastSpec):
		why = "no high availability to restore from"
	case plan.SettingOn(&s.fd.Spec, flinkconf.KeyLastStateCancel):
	case st.JobStatus.State == v1beta1.JobRunning:
		why = "no checkpoint in the HA metadata to restore from, and no savepoint directory (state.savepoints.dir) to take a savepoint"
	default:
		why = "no checkpoint in the HA metadata to restore from, and the job does not run: no savepoint can be taken"
	}
	r.event(s, corev1.EventTypeNormal, "CancellingJob", "Cancelling the job for a last-state upgrade from its latest checkpoint ("+why+")")
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	return requeue.Waiting(errors.New("job cancelling for the last-state upgrade"), r.Options.ProgressCheckInterval)
}

// ReasonUpgradeWithoutState is the Warning event of a last-state upgrade
// that starts its job empty: the cancelled job had no state to keep.
const ReasonUpgradeWithoutState = "UpgradeWithoutState"

// MsgUpgradeWithoutState says why a last-state upgrade starts its job
// empty, and how to keep state across the next one.
const MsgUpgradeWithoutState = "The job cancelled for the last-state upgrade never completed a checkpoint and was not started from a savepoint " +
	"(Flink reports no checkpoint, savepoint or restore of it, and the status records no savepoint): there is no state to keep, so the upgraded job starts empty, as upstream does " +
	"and as Flink's own failover would. To keep state across upgrades, let the job checkpoint (execution.checkpointing.interval, state.checkpoints.dir) " +
	"or set a savepoint directory (state.savepoints.dir)."

// recordEmptyState records, until the old cluster is gone, that the job
// cancelled for a last-state upgrade has no state to restore (nothing
// reported by Flink, no savepoint recorded), and says so once: the
// upgrade then starts it empty, as upstream does.
func (r *Reconciler) recordEmptyState(ctx context.Context, s *state) error {
	st := &s.fd.Status
	if st.ClusterInfo == nil {
		st.ClusterInfo = map[string]string{}
	}
	st.ClusterInfo[plan.InfoUpgradeRestore] = plan.InfoNoState
	st.JobStatus.UpgradeSavepointPath = ""
	r.event(s, corev1.EventTypeWarning, ReasonUpgradeWithoutState, MsgUpgradeWithoutState)
	return r.persist(ctx, s)
}

// runUpgradeStep runs the steps of an upgrade under way after its begin,
// and a rollback.
func (r *Reconciler) runUpgradeStep(ctx context.Context, s *state, p plan.Plan) (bool, error) {
	st := &s.fd.Status
	switch p.Step {
	case plan.RecordEmptyState:
		return true, r.recordEmptyState(ctx, s)
	case plan.PollSavepoint:
		loc, err := r.pollSavepoint(ctx, s, savepointInfo(st))
		if err != nil {
			return false, err
		}
		st.JobStatus.UpgradeSavepointPath = loc
		r.event(s, corev1.EventTypeNormal, "SavepointCompleted", "Savepoint for the upgrade: "+loc)
		return true, r.persist(ctx, s)
	case plan.TriggerSavepoint:
		s.clear(problem.UpgradeBlocked)
		if err := r.supersedePendingSavepoint(ctx, s); err != nil {
			return false, err
		}
		return false, r.triggerSavepoint(ctx, s, v1beta1.TriggerUpgrade, true)
	case plan.ManualRestore:
		// Without HA metadata the new cluster would start empty: refused,
		// as upstream does, and the old cluster kept.
		msg := MsgManualRestore
		if p.Why != "" {
			msg = p.Why
		}
		s.report(problem.New(problem.ManualRestoreRequired, msg))
		return false, requeue.Waiting(errors.New("manual restore required: no HA metadata to restore from"), r.Options.ReconcileInterval)
	case plan.Blocked:
		msg := fmt.Sprintf("cannot upgrade with a savepoint: the job is %q and there is no HA metadata to fall back to; waiting for the job to run (or redeploy from a known savepoint with initialSavepointPath and savepointRedeployNonce)", st.JobStatus.State)
		s.report(problem.New(problem.UpgradeBlocked, msg))
		return false, requeue.Waiting(errors.New(msg), r.Options.ProgressCheckInterval)
	case plan.RecordGone:
		return true, r.recordGone(ctx, s)
	case plan.Suspend:
		if p.Restore.SavepointPath != "" {
			// Suspended by a savepoint redeploy: the resume starts from
			// initialSavepointPath, as upstream records it.
			st.JobStatus.UpgradeSavepointPath = p.Restore.SavepointPath
		}
		r.event(s, corev1.EventTypeNormal, "Suspended", "Job suspended"+savedText(st.JobStatus.UpgradeSavepointPath))
		return false, r.recordSpec(s, v1beta1.ReconciliationDeployed, false)
	case plan.DeployUpgrade:
		return false, r.deployAndRecord(ctx, s, p, "Deploying the upgraded cluster")
	case plan.RollBack:
		return false, r.rollBack(ctx, s, p.Restore)
	case plan.Wait:
		why := p.Why
		if why == "" {
			why = "retrying the upgrade after its savepoint failed"
		}
		if p.Stalled != "" {
			s.report(problem.New(problem.UpgradeStalled, p.Stalled))
		}
		return false, requeue.Waiting(errors.New(why), p.After)
	}
	return false, fmt.Errorf("unknown reconcile step %q", p.Step)
}

// deployText is the event text of a Deploy step.
func deployText(p plan.Plan) string {
	if p.First {
		return "Deploying the cluster"
	}
	return "Resuming the job"
}

// deployAndRecord deploys the spec from p.Restore, announces it and
// records it as deployed.
func (r *Reconciler) deployAndRecord(ctx context.Context, s *state, p plan.Plan, what string) error {
	if err := r.deploy(ctx, s, p.Restore); err != nil {
		return err
	}
	r.event(s, corev1.EventTypeNormal, "Submit", what+fromText(p.Restore))
	if p.Restore.SavepointPath != "" {
		// As upstream: the path the deployment started from (an
		// initialSavepointPath among them), where a rollback or a failed
		// job's restart may start again.
		s.fd.Status.JobStatus.UpgradeSavepointPath = p.Restore.SavepointPath
	}
	return r.recordDeployed(s, p.First)
}

// deleteOldCluster deletes the cluster an upgrade replaces, cancelling its
// job first when p asks; the upgrade goes on, so whatever held it back
// ends.
func (r *Reconciler) deleteOldCluster(ctx context.Context, s *state, p plan.Plan) error {
	s.clear(problem.ManualRestoreRequired, problem.UpgradeBlocked)
	if err := r.supersedePendingSavepoint(ctx, s); err != nil {
		return err
	}
	if p.Fallback {
		r.event(s, corev1.EventTypeWarning, "UpgradeFallback", "Job is "+string(s.fd.Status.JobStatus.State)+"; upgrading from the latest checkpoint in the HA metadata")
	}
	if p.CancelJob && s.jobManager != nil {
		if err := confirmCurrent(ctx, s, "cancelling the job"); err != nil {
			return err
		}
		r.cancelJob(ctx, s)
	}
	if err := r.deleteCluster(ctx, s, p.KeepHA, "the upgrade"); err != nil {
		return err
	}
	s.jobManager = nil
	return nil
}

// recordGone records that the old cluster is gone as upstream does, with
// the new spec marked suspended (the marker), so no later step captures or deletes
// again; a savepoint still pending for the upgrade (the upgrade mode was
// changed while it ran) died with the old cluster.
func (r *Reconciler) recordGone(ctx context.Context, s *state) error {
	st := &s.fd.Status
	if info := st.JobStatus.SavepointInfo; info != nil && info.TriggerType == v1beta1.TriggerUpgrade && info.TriggerID != "" {
		info.TriggerID, info.TriggerType, info.TriggerTimestamp = "", "", nil
	}
	marker := plan.WithHandledNonces(&s.fd.Spec, s.lastSpec).DeepCopy()
	if marker.Job != nil {
		marker.Job.State = v1beta1.JobStateSuspended
		// The marker keeps the old redeploy nonce: the deploy that follows,
		// in this reconcile or after a crash, still knows it starts from
		// initialSavepointPath.
		if s.lastSpec.Job != nil {
			marker.Job.SavepointRedeployNonce = s.lastSpec.Job.SavepointRedeployNonce
		}
	}
	if err := r.recordSpecAs(s, marker, v1beta1.ReconciliationUpgrading, false); err != nil {
		return err
	}
	st.JobStatus.State = v1beta1.JobSuspended
	st.JobManagerDeploymentStatus = v1beta1.JobManagerMissing
	// The old cluster is gone: the new spec starts from the status path
	// (none for a job found without state), and the upgrade can no longer
	// be aborted back to the state it began from.
	delete(st.ClusterInfo, plan.InfoUpgradeRestore)
	delete(st.ClusterInfo, clusterInfoUpgradeFrom)
	plan.ForgetLatest(st)
	return r.persist(ctx, s)
}

// rollBack redeploys the last stable spec from restore. lastReconciledSpec
// keeps the failed spec, so nothing is redeployed again until the user
// changes it. Applying the stable objects is idempotent, so an interrupted
// rollback is simply repeated.
func (r *Reconciler) rollBack(ctx context.Context, s *state, restore flinkconf.Restore) error {
	st := &s.fd.Status
	if st.ReconciliationStatus.State != v1beta1.ReconciliationRollingBack {
		st.ReconciliationStatus.State = v1beta1.ReconciliationRollingBack
		r.event(s, corev1.EventTypeWarning, "Rollback", "The new spec did not become stable within "+r.readinessTimeout(s.lastSpec).String()+"; rolling back to the last stable spec")
		if err := r.persist(ctx, s); err != nil {
			return err
		}
	}
	// The failed deployment started from the upgrade's state; so does the
	// rollback.
	return r.deployStable(ctx, s, restore)
}

// deployStable applies the last stable spec's cluster, its job started
// from restore, and records it ROLLED_BACK and deploying: a rollback, or
// the recovery or restart of a rolled-back cluster. lastReconciledSpec
// keeps the failed spec, never deployed again nor marked stable.
func (r *Reconciler) deployStable(ctx context.Context, s *state, restore flinkconf.Restore) error {
	st := &s.fd.Status
	stable, _, err := plan.DecodeSpec(st.ReconciliationStatus.LastStableSpec)
	if err != nil {
		return requeue.Stalling(err)
	}
	if err := confirmCurrent(ctx, s, "deploying the last stable spec"); err != nil {
		return err
	}
	target := s.fd.DeepCopy()
	target.Spec = *stable
	if err := r.apply(ctx, s, target, restore); err != nil {
		return err
	}
	st.ReconciliationStatus.State = v1beta1.ReconciliationRolledBack
	st.JobManagerDeploymentStatus = v1beta1.JobManagerDeploying
	plan.ForgetLatest(st)
	if stable.Job != nil {
		st.JobStatus.State = v1beta1.JobReconciling
	}
	s.next = r.Options.ProgressCheckInterval
	return nil
}

// ReasonRecoverDeployment is the Warning event of a lost JobManager
// Deployment recreated.
const ReasonRecoverDeployment = "RecoverDeployment"

// ReasonRestartFailedJob is the event of a job that failed for good
// restarted (kubernetes.operator.job.restart.failed).
const ReasonRestartFailedJob = "RestartFailedJob"

// restartRolledBack recovers or restarts a rolled-back cluster with the
// last stable spec, which it runs, as upstream's reconcileOtherChanges
// resubmits the deployed spec (getDeployedSpec), and keeps it ROLLED_BACK:
// a lost JobManager (RecoverJobManager) is recreated, its HA metadata
// restoring the job; a failed job (RestartFailed) and an unhealthy one
// (RestartUnhealthy) have their cluster deleted and deployed again, from
// p.Restore, or from the HA metadata kept (p.KeepHA). Where a failed job
// starts is persisted before its cluster goes, and an unhealthy job's
// judgment is forgotten only once its cluster is gone: a restart
// interrupted, or waiting for the old JobManager to go, is planned and
// finished again.
func (r *Reconciler) restartRolledBack(ctx context.Context, s *state, p plan.Plan) error {
	st := &s.fd.Status
	switch p.Step {
	case plan.RecoverJobManager:
		r.event(s, corev1.EventTypeWarning, ReasonRecoverDeployment, "JobManager deployment missing, recreating it with the last stable spec, which the rolled-back FlinkDeployment runs")
		return r.deployStable(ctx, s, flinkconf.Restore{})
	case plan.RestartFailed:
		st.JobStatus.UpgradeSavepointPath = p.Restore.SavepointPath
		r.event(s, corev1.EventTypeNormal, ReasonRestartFailedJob, "Restarting the failed job of the last stable spec, which the rolled-back FlinkDeployment runs"+fromText(p.Restore))
		if err := r.persist(ctx, s); err != nil {
			return err
		}
	default:
		r.event(s, corev1.EventTypeWarning, ReasonRestartUnhealthy, p.Why)
	}
	if err := r.deleteCluster(ctx, s, p.KeepHA, "the restart of the job"); err != nil {
		return err
	}
	s.jobManager = nil
	clusterhealth.Forget(st.ClusterInfo)
	s.clear(deploymentEnds...)
	return r.deployStable(ctx, s, p.Restore)
}

// MsgManualRestore is upstream's report of a last-state upgrade with no HA
// metadata to restore from; initialSavepointPath with a new
// savepointRedeployNonce gets the user out.
const MsgManualRestore = "HA metadata not available to restore from last state. It is possible that the job has finished or terminally failed, or the configmaps have been deleted. Manual restore required."

// cancelJob cancels the running job, best effort: the cluster is deleted
// next either way.
func (r *Reconciler) cancelJob(ctx context.Context, s *state) {
	st := &s.fd.Status
	if st.JobManagerDeploymentStatus != v1beta1.JobManagerReady || st.JobStatus.JobID == "" {
		return
	}
	jm, err := r.JobManagers(s.clusterName, s.cluster.GetConfig(), s.fd)
	if err == nil {
		err = jm.CancelJob(ctx, st.JobStatus.JobID)
	}
	if err != nil {
		r.event(s, corev1.EventTypeWarning, "CancelFailed", "Cancelling the job failed, deleting the cluster anyway: "+err.Error())
	}
}

// deleteCluster deletes the JobManager and TaskManager Deployments (and the
// HA metadata unless kept) for what (the upgrade, a shutdown) and waits
// until the JobManager is gone. Services and ConfigMaps stay: the new
// cluster reuses them (a Service whose cluster IP must change is replaced
// when the new cluster is applied, applyService).
func (r *Reconciler) deleteCluster(ctx context.Context, s *state, keepHA bool, what string) error {
	if err := confirmCurrent(ctx, s, "deleting the Flink cluster"); err != nil {
		return err
	}
	err := deployer.DeleteCluster(ctx, s.cluster.GetClient(), s.cluster.GetAPIReader(), s.fd, deployer.Teardown{KeepHA: keepHA}, r.deployers()...)
	if errors.Is(err, deployer.ErrJobManagerRemains) {
		return r.awaitJobManagerGone(ctx, s, what)
	}
	if err == nil {
		s.clear(problem.DeletionStalled)
	}
	return err
}

// checkpointStatistics reads Flink's checkpoint statistics of the job:
// its latest checkpoints, and when its latest completed and pending ones
// were triggered (checkpoints.Of). Flink's 404 for a job that ended is no
// checkpoint reported (noCheckpointStatistics), said in a Warning event;
// any other failure is the reconcile's error.
func (r *Reconciler) checkpointStatistics(ctx context.Context, s *state) (*api.CheckpointingStatistics, error) {
	jm, err := r.JobManagers(s.clusterName, s.cluster.GetConfig(), s.fd)
	if err != nil {
		return nil, err
	}
	js := &s.fd.Status.JobStatus
	stats, err := checkpoints.Statistics(ctx, jm, js.JobID)
	switch {
	case noCheckpointStatistics(&s.fd.Status, err):
		r.event(s, corev1.EventTypeWarning, ReasonNoCheckpointStatistics, fmt.Sprintf("Flink has no checkpoint statistics of the %s job %s "+
			"(checkpointing not enabled, or the job expired): no checkpoint of it is reported", js.State, js.JobID))
		return &api.CheckpointingStatistics{}, nil
	case err != nil:
		return nil, fmt.Errorf("the %s job's latest state: %w", js.State, err)
	}
	return stats, nil
}

// noCheckpointStatistics reports whether err, of reading the checkpoint
// statistics of st's job, is Flink reporting no checkpoint of it: a 404
// ("Checkpointing has not been enabled.", as for a batch job; or the job
// expired) of a job that ended (plan.Ended: FAILED, FINISHED or CANCELED),
// as upstream's getLastCheckpoint reads it for every globally terminal
// job. The plan then weighs nothing from Flink: an upgrade or restart,
// a job cancelled for a last-state upgrade among them, starts from the
// newest savepoint recorded (endedState), empty when none is, and
// KeepLatest keeps nothing. The one rule for every reader of an ended job's latest state;
// a 404 of a job that still runs stays an error.
func noCheckpointStatistics(st *v1beta1.FlinkDeploymentStatus, err error) bool {
	return err != nil && flinkrest.IsNotFound(err) && plan.Ended(st)
}

// keepLatest keeps, while the JobManager of the job that ended answers,
// what Flink reports of the job's latest checkpoints (plan.RecordLatest),
// as upstream's observer records it: its upgrade or restart after the
// JobManager is gone starts from it. The reconcile's status write carries
// it (a ShutDown writes it before the deletion): no write of its own.
func (r *Reconciler) keepLatest(ctx context.Context, s *state) error {
	stats, err := r.checkpointStatistics(ctx, s)
	if err != nil {
		return fmt.Errorf("keep the latest checkpoint before the JobManager goes: %w", err)
	}
	plan.RecordLatest(&s.fd.Status, stats.Latest)
	return nil
}

// ReasonNoCheckpointStatistics is the Warning event of a job that ended
// (FAILED, FINISHED or CANCELED) of which Flink has no checkpoint
// statistics: no checkpoint of it is reported (noCheckpointStatistics).
const ReasonNoCheckpointStatistics = "NoCheckpointStatistics"

// hasHAMetadata reports whether Flink's HA metadata of a job exists: an HA
// ConfigMap of the cluster other than the leader ConfigMap
// (<cluster-id>-cluster-config-map), i.e. one holding checkpoint pointers.
func (r *Reconciler) hasHAMetadata(ctx context.Context, s *state) (bool, error) {
	var list metav1.PartialObjectMetadataList
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMapList"))
	if err := s.cluster.GetAPIReader().List(ctx, &list, client.InNamespace(s.fd.Namespace),
		deployer.HALabels(s.fd)); err != nil {
		return false, fmt.Errorf("list HA metadata: %w", err)
	}
	for _, cm := range list.Items {
		if cm.Name != s.fd.Name+"-cluster-config-map" {
			return true, nil
		}
	}
	return false, nil
}

// recordSpec records the current spec as reconciled with the given state,
// with the snapshot trigger nonces already handled (plan.WithHandledNonces):
// a new one not acted upon yet (the job does not run) stays pending, and
// the manual snapshot step records it when it triggers the snapshot.
func (r *Reconciler) recordSpec(s *state, rs v1beta1.ReconciliationState, first bool) error {
	spec := *plan.WithHandledNonces(&s.fd.Spec, s.lastSpec)
	return r.recordSpecAs(s, &spec, rs, first)
}

// recordKeepingState records the current spec as reconciled, so the next
// change is compared with it, but keeps the reconciliation state and
// timestamp (plan.Plan.KeepState): a change that deploys nothing.
func (r *Reconciler) recordKeepingState(s *state) error {
	rs := &s.fd.Status.ReconciliationStatus
	at := rs.ReconciliationTimestamp
	if err := r.recordSpec(s, rs.State, false); err != nil {
		return err
	}
	rs.ReconciliationTimestamp = at
	return nil
}

// recordSpecAs records spec (not necessarily the current one) as reconciled.
func (r *Reconciler) recordSpecAs(s *state, spec *v1beta1.FlinkDeploymentSpec, rs v1beta1.ReconciliationState, first bool) error {
	encoded, err := plan.EncodeSpec(spec, first)
	if err != nil {
		return err
	}
	st := &s.fd.Status.ReconciliationStatus
	st.LastReconciledSpec = encoded
	st.ReconciliationTimestamp = r.now().UnixMilli()
	st.State = rs
	s.lastSpec, s.lastSpecOf = spec, encoded
	return nil
}

// ReasonShutDown is the event of an ended job's JobManager shut down after
// its TTL.
const ReasonShutDown = "JobManagerShutDown"

// event records an event on the FlinkDeployment in its member cluster.
func (r *Reconciler) event(s *state, eventType, reason, msg string) {
	s.cluster.GetEventRecorder("flink-hub").Eventf(s.fd, nil, eventType, reason, reason, "%s", msg)
}

func fromText(r flinkconf.Restore) string {
	if r.SavepointPath == "" {
		return ""
	}
	return " from " + r.SavepointPath
}

func savedText(path string) string {
	if path == "" {
		return ""
	}
	return " with savepoint " + path
}

// latestUnknown says, of an ended job restarted from its newest savepoint
// recorded, that its latest checkpoint could not be weighed against it:
// its JobManager, which held the checkpoint statistics, is gone or does
// not answer, and nothing of them was kept before; "" when they were read
// or kept (the savepoint is newer).
func latestUnknown(s *state) string {
	if _, kept := plan.KeptLatest(&s.fd.Status); kept || (s.jobManager != nil && s.fd.Status.JobManagerDeploymentStatus == v1beta1.JobManagerReady) {
		return ""
	}
	return " (its JobManager is gone or not ready, so any checkpoint completed after that savepoint is unknown)"
}
