package flinkdeployment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/controllers/deployer"
	"github.com/flink-hub/flink-hub/controllers/flinkconf"
)

// reconcileSpec brings the cluster to the spec. Every decision is taken
// from the status alone, so a reconcile interrupted at any point (a crash, a
// shard handoff) is finished by whichever replica runs next:
//
//   - no lastReconciledSpec: first deployment;
//   - reconciliationStatus.state UPGRADING: an upgrade or suspend is under
//     way; continueUpgrade finds its step from the status;
//   - job.state changed: suspend (by the upgrade mode) or resume;
//   - otherwise the spec diff decides: ignore, scale, upgrade, or
//     savepoint redeploy.
func (r *Reconciler) reconcileSpec(ctx context.Context, s *state) error {
	st := &s.fd.Status
	spec := &s.fd.Spec
	if s.lastSpec == nil {
		if suspended(spec) {
			// Created suspended: nothing to run yet.
			return r.recordSpec(s, v1beta1.ReconciliationDeployed, true)
		}
		if err := r.deploy(ctx, s, flinkconf.Restore{SavepointPath: initialSavepoint(spec)}); err != nil {
			return err
		}
		r.event(s, corev1.EventTypeNormal, "Submit", "Deploying the cluster")
		return r.recordDeployed(s, true)
	}
	switch {
	case st.ReconciliationStatus.State == v1beta1.ReconciliationUpgrading:
		return r.continueUpgrade(ctx, s)
	case st.ReconciliationStatus.State == v1beta1.ReconciliationRollingBack || r.shouldRollBack(s):
		return r.rollBack(ctx, s)
	case st.ReconciliationStatus.State == v1beta1.ReconciliationRolledBack && !specChanged(spec, s.lastSpec):
		// The last stable spec runs; only a new spec moves on.
		return nil
	}
	switch {
	case suspended(spec) && !suspended(s.lastSpec):
		return r.startUpgrade(ctx, s, "Suspending the job")
	case !suspended(spec) && suspended(s.lastSpec):
		restore := r.restoreFor(s, upgradeMode(spec))
		if err := r.deploy(ctx, s, restore); err != nil {
			return err
		}
		r.event(s, corev1.EventTypeNormal, "Submit", "Resuming the job"+fromText(restore))
		return r.recordDeployed(s, false)
	case suspended(spec):
		if specChanged(spec, s.lastSpec) {
			return r.recordSpec(s, v1beta1.ReconciliationDeployed, false)
		}
		return nil
	}

	if restartingFailedJob(s) {
		return r.restartFailedJob(ctx, s)
	}
	// Manual savepoints and checkpoints compare the nonce with the last
	// reconciled spec, so they run before the spec is recorded.
	if err := r.manualSavepoint(ctx, s); err != nil {
		return err
	}
	if err := r.manualCheckpoint(ctx, s); err != nil {
		return err
	}
	if specChanged(spec, s.lastSpec) {
		switch d := classify(spec, s.lastSpec); d {
		case diffIgnore:
			return r.recordSpec(s, v1beta1.ReconciliationDeployed, false)
		case diffScale:
			if err := r.deploy(ctx, s, flinkconf.Restore{}); err != nil {
				return err
			}
			r.event(s, corev1.EventTypeNormal, "Scaling", "Resizing the TaskManagers of the reactive job")
			return r.recordSpec(s, v1beta1.ReconciliationDeployed, false)
		default:
			return r.startUpgrade(ctx, s, fmt.Sprintf("Spec changed (%s)", d))
		}
	}
	if st.JobManagerDeploymentStatus == v1beta1.JobManagerMissing {
		// The JobManager Deployment was deleted behind our back: recreate
		// it from the last reconciled spec, as upstream's deployment
		// recovery does; HA metadata, if any, restores the job.
		r.event(s, corev1.EventTypeWarning, "RecoverDeployment", "JobManager deployment missing, recreating it")
		return r.deploy(ctx, s, flinkconf.Restore{})
	}
	if err := r.periodicSavepoint(ctx, s); err != nil {
		return err
	}
	return r.periodicCheckpoint(ctx, s)
}

func suspended(spec *v1beta1.FlinkDeploymentSpec) bool {
	return spec.Job != nil && spec.Job.State == v1beta1.JobStateSuspended
}

// upgradeMode is the spec's upgrade mode, stateless when unset as upstream.
func upgradeMode(spec *v1beta1.FlinkDeploymentSpec) v1beta1.UpgradeMode {
	if spec.Job == nil || spec.Job.UpgradeMode == "" {
		return v1beta1.UpgradeModeStateless
	}
	return spec.Job.UpgradeMode
}

// startUpgrade marks the upgrade (or suspend) in the status before any
// step, so the next owner knows one is under way.
func (r *Reconciler) startUpgrade(ctx context.Context, s *state, why string) error {
	st := &s.fd.Status
	if wait := r.retryBlocked(st); wait > 0 {
		return waiting(errors.New("retrying the upgrade after its savepoint failed"), wait)
	}
	st.ReconciliationStatus.State = v1beta1.ReconciliationUpgrading
	st.JobStatus.UpgradeSavepointPath = ""
	r.event(s, corev1.EventTypeNormal, "SpecChanged", why)
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	return r.continueUpgrade(ctx, s)
}

// continueUpgrade runs the next step of an upgrade or suspend: capture the
// job's state by the upgrade mode (persisted), delete the old cluster,
// record that it is gone (persisted), then deploy the new spec or stop
// there for a suspend.
func (r *Reconciler) continueUpgrade(ctx context.Context, s *state) error {
	st := &s.fd.Status
	spec := &s.fd.Spec
	mode := upgradeMode(spec)
	redeploy := s.lastSpec.Job != nil && spec.Job != nil && !v1beta1.EqualNonce(spec.Job.SavepointRedeployNonce, s.lastSpec.Job.SavepointRedeployNonce)

	if !suspended(s.lastSpec) {
		// The old cluster may still run: capture state, then delete it.
		keepHA := false
		if s.jobManager != nil {
			var err error
			keepHA, err = r.captureState(ctx, s, mode, redeploy)
			if err != nil {
				return err
			}
		} else {
			keepHA = mode == v1beta1.UpgradeModeLastState || (mode == v1beta1.UpgradeModeSavepoint && st.JobStatus.UpgradeSavepointPath == "")
		}
		if err := r.deleteCluster(ctx, s, keepHA && !redeploy); err != nil {
			return err
		}
		// A savepoint still pending for the upgrade (the upgrade mode was
		// changed while it ran) died with the old cluster.
		if info := st.JobStatus.SavepointInfo; info != nil && info.TriggerType == v1beta1.TriggerUpgrade && info.TriggerID != "" {
			info.TriggerID, info.TriggerType, info.TriggerTimestamp = "", "", nil
		}
		// The old cluster is gone: record it as upstream does, with the new
		// spec marked suspended, so no later step captures or deletes again.
		marker := spec.DeepCopy()
		if marker.Job != nil {
			marker.Job.State = v1beta1.JobStateSuspended
		}
		if err := r.recordSpecAs(s, marker, v1beta1.ReconciliationUpgrading); err != nil {
			return err
		}
		st.JobStatus.State = v1beta1.JobSuspended
		st.JobManagerDeploymentStatus = v1beta1.JobManagerMissing
		if err := r.persist(ctx, s); err != nil {
			return err
		}
	}

	if suspended(spec) {
		r.event(s, corev1.EventTypeNormal, "Suspended", "Job suspended"+savedText(st.JobStatus.UpgradeSavepointPath))
		return r.recordSpec(s, v1beta1.ReconciliationDeployed, false)
	}
	restore := r.restoreFor(s, mode)
	if redeploy {
		restore = flinkconf.Restore{SavepointPath: spec.Job.InitialSavepointPath}
	}
	if err := r.deploy(ctx, s, restore); err != nil {
		return err
	}
	r.event(s, corev1.EventTypeNormal, "Submit", "Deploying the upgraded cluster"+fromText(restore))
	return r.recordDeployed(s, false)
}

// captureState saves the running job's state by the upgrade mode before its
// cluster is deleted. It returns whether the HA metadata must be kept (the
// new cluster restores from it). A savepoint is triggered once: its trigger
// is persisted, then polled, and its path persisted before anything is
// deleted.
func (r *Reconciler) captureState(ctx context.Context, s *state, mode v1beta1.UpgradeMode, redeploy bool) (bool, error) {
	st := &s.fd.Status
	if restartingFailedJob(s) {
		// Nothing to capture: restartFailedJob chose where the job starts,
		// and Flink removed the failed job's HA metadata.
		return false, nil
	}
	if redeploy || mode == v1beta1.UpgradeModeStateless {
		if err := confirmCurrent(ctx, s, "cancelling the job"); err != nil {
			return false, err
		}
		r.cancelJob(ctx, s)
		return false, nil
	}
	if mode == v1beta1.UpgradeModeLastState {
		// Without HA metadata the new cluster would start empty: refuse,
		// as upstream does, and keep the old cluster.
		has, err := r.hasHAMetadata(ctx, s)
		if err != nil {
			return false, err
		}
		if !has {
			st.Error = MsgManualRestore
			r.event(s, corev1.EventTypeWarning, "RestoreFailed", st.Error)
			return false, waiting(errors.New(st.Error), r.Options.ReconcileInterval)
		}
		if st.Error == MsgManualRestore {
			st.Error = ""
		}
		return true, nil
	}
	// Savepoint mode.
	if st.JobStatus.UpgradeSavepointPath != "" {
		return false, nil
	}
	info := savepointInfo(st)
	if info.TriggerID != "" && info.TriggerType == v1beta1.TriggerUpgrade {
		loc, err := r.pollSavepoint(ctx, s, info)
		if err != nil {
			return false, err
		}
		st.JobStatus.UpgradeSavepointPath = loc
		r.event(s, corev1.EventTypeNormal, "SavepointCompleted", "Savepoint for the upgrade: "+loc)
		return false, r.persist(ctx, s)
	}
	if st.JobManagerDeploymentStatus == v1beta1.JobManagerReady && st.JobStatus.State == v1beta1.JobRunning {
		if strings.HasPrefix(st.Error, upgradeBlockedPrefix) {
			st.Error = ""
		}
		return false, r.triggerSavepoint(ctx, s, v1beta1.TriggerUpgrade, true)
	}
	// The job does not run, so no savepoint can be taken. Fall back to the
	// latest checkpoint in the HA metadata if there is one; else wait.
	if haEnabled(s.lastSpec) {
		has, err := r.hasHAMetadata(ctx, s)
		if err != nil {
			return false, err
		}
		if has {
			if strings.HasPrefix(st.Error, upgradeBlockedPrefix) {
				st.Error = ""
			}
			r.event(s, corev1.EventTypeWarning, "UpgradeFallback", "Job is "+string(st.JobStatus.State)+"; upgrading from the latest checkpoint in the HA metadata")
			return true, nil
		}
	}
	st.Error = fmt.Sprintf(upgradeBlockedPrefix+"the job is %q and there is no HA metadata to fall back to; waiting for the job to run (or redeploy from a known savepoint with initialSavepointPath and savepointRedeployNonce)", st.JobStatus.State)
	return false, waiting(errors.New(st.Error), r.Options.ProgressCheckInterval)
}

// restartingFailedJob reports a job that failed for good, with
// flinkconf.KeyRestartFailed on and the spec unchanged since it was deployed: the
// case restartFailedJob handles (a new spec is an upgrade instead).
func restartingFailedJob(s *state) bool {
	return s.fd.Status.JobStatus.State == v1beta1.JobFailed && !suspended(s.lastSpec) &&
		settingOn(s.lastSpec, flinkconf.KeyRestartFailed) && !specChanged(&s.fd.Spec, s.lastSpec)
}

// restartFailedJob redeploys the deployed spec of a job that failed for
// good, as upstream does: in the savepoint and last-state modes from the
// upgrade savepoint or, failing that, the last savepoint; else (stateless,
// or no savepoint known) with empty state, since Flink removed the failed
// job's HA metadata. It runs as an upgrade to the same spec, so a replica
// that takes over part-way finishes it.
func (r *Reconciler) restartFailedJob(ctx context.Context, s *state) error {
	st := &s.fd.Status
	path := ""
	if upgradeMode(s.lastSpec) != v1beta1.UpgradeModeStateless {
		path = st.JobStatus.UpgradeSavepointPath
		if info := st.JobStatus.SavepointInfo; path == "" && info != nil && info.LastSavepoint != nil {
			path = info.LastSavepoint.Location
		}
	}
	st.ReconciliationStatus.State = v1beta1.ReconciliationUpgrading
	st.JobStatus.UpgradeSavepointPath = path
	r.event(s, corev1.EventTypeNormal, "RestartFailedJob", "Restarting the failed job"+fromText(flinkconf.Restore{SavepointPath: path}))
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	return r.continueUpgrade(ctx, s)
}

// shouldRollBack reports a deployed spec that has not become stable within
// the readiness timeout, with rollbacks enabled and a stable spec to go
// back to.
func (r *Reconciler) shouldRollBack(s *state) bool {
	st := &s.fd.Status
	rs := st.ReconciliationStatus
	if rs.State != v1beta1.ReconciliationDeployed || rs.LastStableSpec == "" || rs.LastStableSpec == rs.LastReconciledSpec {
		return false
	}
	if !settingOn(s.lastSpec, flinkconf.KeyRollbackEnabled) || isStable(st, s.lastSpec) {
		return false
	}
	return r.now().Sub(time.UnixMilli(rs.ReconciliationTimestamp)) > r.readinessTimeout(s.lastSpec)
}

// rollBack redeploys the last stable spec. lastReconciledSpec keeps the
// failed spec, so nothing is redeployed again until the user changes it.
// Applying the stable objects is idempotent, so an interrupted rollback is
// simply repeated.
func (r *Reconciler) rollBack(ctx context.Context, s *state) error {
	st := &s.fd.Status
	if st.ReconciliationStatus.State != v1beta1.ReconciliationRollingBack {
		st.ReconciliationStatus.State = v1beta1.ReconciliationRollingBack
		r.event(s, corev1.EventTypeWarning, "Rollback", "The new spec did not become stable within "+r.readinessTimeout(s.lastSpec).String()+"; rolling back to the last stable spec")
		if err := r.persist(ctx, s); err != nil {
			return err
		}
	}
	stable, _, err := decodeSpec(st.ReconciliationStatus.LastStableSpec)
	if err != nil {
		return stalling(err)
	}
	target := s.fd.DeepCopy()
	target.Spec = *stable
	// The failed deployment started from the upgrade's state; so does the
	// rollback.
	if err := r.apply(ctx, s, target, r.restoreFor(s, upgradeMode(stable))); err != nil {
		return err
	}
	st.ReconciliationStatus.State = v1beta1.ReconciliationRolledBack
	st.JobManagerDeploymentStatus = v1beta1.JobManagerDeploying
	if stable.Job != nil {
		st.JobStatus.State = v1beta1.JobReconciling
	}
	s.next = r.Options.ProgressCheckInterval
	return nil
}

// MsgManualRestore is upstream's report of a last-state upgrade with no HA
// metadata to restore from; initialSavepointPath with a new
// savepointRedeployNonce gets the user out.
const MsgManualRestore = "HA metadata not available to restore from last state. It is possible that the job has finished or terminally failed, or the configmaps have been deleted. Manual restore required."

// upgradeBlockedPrefix starts the error of an upgrade that waits for a way
// to save the job's state; it is cleared once the upgrade goes on.
const upgradeBlockedPrefix = "cannot upgrade with a savepoint: "

// restoreFor is where a (re)deployed job starts: the upgrade's savepoint in
// savepoint mode, the HA metadata in last-state mode (Flink finds it by the
// cluster id), empty state when stateless.
func (r *Reconciler) restoreFor(s *state, mode v1beta1.UpgradeMode) flinkconf.Restore {
	if mode == v1beta1.UpgradeModeStateless {
		return flinkconf.Restore{}
	}
	return flinkconf.Restore{SavepointPath: s.fd.Status.JobStatus.UpgradeSavepointPath}
}

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
// HA metadata unless kept) and waits until the JobManager is gone.
// Services and ConfigMaps stay: the new cluster reuses them.
func (r *Reconciler) deleteCluster(ctx context.Context, s *state, keepHA bool) error {
	if err := confirmCurrent(ctx, s, "deleting the Flink cluster"); err != nil {
		return err
	}
	err := deployer.DeleteCluster(ctx, s.cluster.GetClient(), s.fd, deployer.Teardown{KeepHA: keepHA}, r.deployers()...)
	if errors.Is(err, deployer.ErrJobManagerRemains) {
		// Its deletion event brings the next reconcile.
		return waiting(errors.New("waiting for the old JobManager to be deleted"), r.Options.ReconcileInterval)
	}
	return err
}

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

// recordSpec records the current spec as reconciled with the given state.
func (r *Reconciler) recordSpec(s *state, rs v1beta1.ReconciliationState, first bool) error {
	encoded, err := encodeSpec(&s.fd.Spec, first)
	if err != nil {
		return err
	}
	st := &s.fd.Status.ReconciliationStatus
	st.LastReconciledSpec = encoded
	st.ReconciliationTimestamp = r.now().UnixMilli()
	st.State = rs
	spec := s.fd.Spec
	s.lastSpec = &spec
	return nil
}

// recordSpecAs records spec (not necessarily the current one) as reconciled.
func (r *Reconciler) recordSpecAs(s *state, spec *v1beta1.FlinkDeploymentSpec, rs v1beta1.ReconciliationState) error {
	encoded, err := encodeSpec(spec, false)
	if err != nil {
		return err
	}
	st := &s.fd.Status.ReconciliationStatus
	st.LastReconciledSpec = encoded
	st.ReconciliationTimestamp = r.now().UnixMilli()
	st.State = rs
	s.lastSpec = spec
	return nil
}

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
