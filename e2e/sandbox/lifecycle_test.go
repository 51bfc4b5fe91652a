package main

import (
	"context"
	"fmt"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// stepTimeout bounds each step of a lifecycle (a suspend, a resume, one
// upgrade) and each deletion. A step that hangs fails the test after it.
const stepTimeout = 2 * time.Minute

// exerciseExamples does what a tenant does with the running examples, with
// kubectl's means (the sandbox's kubeconfig, a client per member context):
// on member-1, every example that has a job is suspended, resumed and
// upgraded in each upgrade mode it supports (the examples concurrently,
// each one's steps in turn); then every example, jobs and sessions, is
// deleted on both members and must be gone with everything its Flink
// cluster had in the member. It reports each example's failure.
func exerciseExamples(t *testing.T, ctx context.Context, dir string, all []examples.Example, members int) {
	t.Helper()
	tenants := make([]*tenant, members)
	for i := range tenants {
		tn, err := newTenant(dir, fmt.Sprintf("member-%d", i+1))
		if err != nil {
			t.Fatal(err)
		}
		tenants[i] = tn
	}

	start := time.Now()
	var jobs []*v1beta1.FlinkDeployment
	for _, ex := range all {
		// Session clusters (no spec.job) have no job to suspend or
		// upgrade: upstream's job state and upgrade mode are job fields.
		// They are only deleted below.
		if ex.Typed.Spec.Job != nil {
			jobs = append(jobs, ex.Typed)
		}
	}
	for name, err := range concurrently(jobs, func(fd *v1beta1.FlinkDeployment) error { return lifecycle(ctx, t.Logf, tenants[0], fd) }) {
		t.Errorf("lifecycle of %s on %s: %v", name, tenants[0].member, err)
	}
	t.Logf("lifecycles of %d examples on %s: %s", len(jobs), tenants[0].member, time.Since(start).Round(time.Second))

	// Session jobs go first: their session cluster is deleted only after
	// them.
	_ = framework.InParallel(tenants, func(_ int, tn *tenant) error {
		if err := tn.deleteSessionJobs(ctx); err != nil {
			t.Errorf("session jobs on %s: %v", tn.member, err)
		}
		return nil
	})

	start = time.Now()
	var fds []*v1beta1.FlinkDeployment
	for _, ex := range all {
		fds = append(fds, ex.Typed)
	}
	var mu sync.Mutex
	_ = framework.InParallel(tenants, func(_ int, tn *tenant) error {
		failed := concurrently(fds, func(fd *v1beta1.FlinkDeployment) error { return tn.deleteAndWait(ctx, fd.Name) })
		mu.Lock()
		defer mu.Unlock()
		for name, err := range failed {
			t.Errorf("deletion of %s on %s: %v", name, tn.member, err)
		}
		return nil
	})
	t.Logf("deletion of %d examples on %d members: %s", len(fds), len(tenants), time.Since(start).Round(time.Second))
	if t.Failed() {
		t.Logf("hub replica logs, last lines:\n%s", hubLogTails(tenants[0].hubLogs, 25, func(string) bool { return true }))
	}
}

// concurrently runs do for every FlinkDeployment at once and returns the
// errors by name.
func concurrently(fds []*v1beta1.FlinkDeployment, do func(*v1beta1.FlinkDeployment) error) map[string]error {
	errs := map[string]error{}
	var mu sync.Mutex
	_ = framework.InParallel(fds, func(_ int, fd *v1beta1.FlinkDeployment) error {
		err := do(fd)
		if err != nil {
			mu.Lock()
			errs[fd.Name] = err
			mu.Unlock()
		}
		return err
	})
	return errs
}

// upgradeModes are the upgrade modes this test runs the example in:
// stateless always; savepoint only with state.savepoints.dir and
// state.checkpoints.dir (upstream's validation and ours); last-state with
// high availability and state.checkpoints.dir, whose restore from the
// latest checkpoint in the HA metadata this test checks (without HA,
// which upstream and flink-hub allow, last-state goes by cancellation:
// internal/controllers/flinkdeployment TestLastStateWithoutHA). The
// stateless examples (no state directories, no HA) are thus only upgraded
// statelessly: upstream refuses the stateful modes for them.
func upgradeModes(spec *v1beta1.FlinkDeploymentSpec) ([]v1beta1.UpgradeMode, error) {
	conf, err := spec.FlatConfiguration()
	if err != nil {
		return nil, err
	}
	modes := []v1beta1.UpgradeMode{v1beta1.UpgradeModeStateless}
	checkpoints := conf[flinkconf.KeyCheckpointsDir] != ""
	if checkpoints && conf[flinkconf.KeySavepointsDir] != "" {
		modes = append(modes, v1beta1.UpgradeModeSavepoint)
	}
	if checkpoints && flinkconf.Config(conf).HAEnabled() {
		modes = append(modes, v1beta1.UpgradeModeLastState)
	}
	return modes, nil
}

// lifecycle suspends the example's job and waits for upstream's suspended
// status (lifecycleState and jobStatus.state SUSPENDED, the JobManager
// gone; a savepoint recorded in savepoint mode), resumes it and waits for it
// to run stably again (from that savepoint), then upgrades it in each mode
// it supports, in turn, by a new spec.restartNonce (which our diff, as
// upstream's, treats as an upgrade) and waits each time for the new
// generation to run stably on a new JobManager. It logs each step done.
func lifecycle(ctx context.Context, logf func(string, ...any), tn *tenant, example *v1beta1.FlinkDeployment) error {
	name := example.Name
	start := time.Now()
	done := func(step string) {
		logf("%s/%s: %s done at %s", tn.member, name, step, time.Since(start).Round(time.Second))
	}
	modes, err := upgradeModes(&example.Spec)
	if err != nil {
		return err
	}
	mode := v1beta1.UpgradeModeStateless
	if m := example.Spec.Job.UpgradeMode; m != "" {
		mode = m
	}

	if err := tn.patch(ctx, name, `{"spec":{"job":{"state":"suspended"}}}`); err != nil {
		return err
	}
	fd, err := tn.waitFor(ctx, name, "suspend", stepTimeout, func(ctx context.Context, fd *v1beta1.FlinkDeployment) error {
		if err := observed(fd); err != nil {
			return err
		}
		st := fd.Status
		if st.LifecycleState != v1beta1.LifecycleSuspended || st.JobStatus.State != v1beta1.JobSuspended {
			return fmt.Errorf("lifecycle %s, job %s", st.LifecycleState, st.JobStatus.State)
		}
		if jm, err := tn.jobManager(ctx, fd); err != nil || jm != nil {
			return fmt.Errorf("the JobManager Deployment is still there (%v)", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	savepoint := fd.Status.JobStatus.UpgradeSavepointPath
	if mode == v1beta1.UpgradeModeSavepoint && savepoint == "" {
		return fmt.Errorf("suspended in savepoint mode without a savepoint: %s", describe(fd))
	}
	done("suspend")

	if err := tn.patch(ctx, name, `{"spec":{"job":{"state":"running"}}}`); err != nil {
		return err
	}
	if _, err := tn.waitFor(ctx, name, "resume", stepTimeout, func(ctx context.Context, fd *v1beta1.FlinkDeployment) error {
		if err := reconciledRunning(fd, func(last *v1beta1.FlinkDeploymentSpec) bool { return last.Job.State == v1beta1.JobStateRunning }); err != nil {
			return err
		}
		if savepoint == "" {
			return nil
		}
		// Resumed from the suspend's savepoint.
		conf, err := tn.flinkConfig(ctx, fd)
		if err != nil || !strings.Contains(conf, savepoint) {
			return fmt.Errorf("the resumed cluster's configuration does not restore from the savepoint %s (%v)", savepoint, err)
		}
		return nil
	}); err != nil {
		return err
	}
	done("resume")

	for i, m := range modes {
		if err := upgrade(ctx, tn, name, m, int64(i+1)); err != nil {
			return err
		}
		done(string(m) + " upgrade")
	}
	return nil
}

// reconciledRunning fails unless the current generation was reconciled,
// the last reconciled spec is the one want recognizes, and it runs stably.
func reconciledRunning(fd *v1beta1.FlinkDeployment, want func(*v1beta1.FlinkDeploymentSpec) bool) error {
	if err := observed(fd); err != nil {
		return err
	}
	last, err := lastReconciled(fd)
	if err != nil {
		return err
	}
	if last.Job == nil || !want(last) {
		return fmt.Errorf("the new spec is not reconciled yet")
	}
	return stableAndRunning(fd)
}

// upgrade changes spec.restartNonce to nonce with the given upgrade mode
// and waits for the new spec to run stably on a new JobManager, then checks
// where the job's state came from: a savepoint taken for the upgrade
// (savepoint), the HA metadata kept through it (last-state), or nothing
// (stateless).
func upgrade(ctx context.Context, tn *tenant, name string, mode v1beta1.UpgradeMode, nonce int64) error {
	what := fmt.Sprintf("%s upgrade", mode)
	before, err := tn.get(ctx, name)
	if err != nil {
		return err
	}
	if mode == v1beta1.UpgradeModeLastState {
		// last-state restores the latest checkpoint from the HA metadata:
		// wait for the job to have written one, as upstream refuses the
		// upgrade ("Manual restore required") without it.
		before, err = tn.waitFor(ctx, name, "HA checkpoint metadata before the last-state upgrade", stepTimeout, func(ctx context.Context, fd *v1beta1.FlinkDeployment) error {
			cm, err := tn.haCheckpoints(ctx, fd)
			if err != nil || cm == nil {
				return fmt.Errorf("no HA checkpoint ConfigMap (%v)", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	oldJM, err := tn.jobManager(ctx, before)
	if err != nil || oldJM == nil {
		return fmt.Errorf("%s: no JobManager before the upgrade (%v)", what, err)
	}
	oldHA, err := tn.haCheckpoints(ctx, before)
	if err != nil {
		return err
	}

	if err := tn.patch(ctx, name, fmt.Sprintf(`{"spec":{"restartNonce":%d,"job":{"upgradeMode":%q}}}`, nonce, mode)); err != nil {
		return err
	}
	fd, err := tn.waitFor(ctx, name, what, stepTimeout, func(ctx context.Context, fd *v1beta1.FlinkDeployment) error {
		err := reconciledRunning(fd, func(last *v1beta1.FlinkDeploymentSpec) bool {
			return last.RestartNonce != nil && *last.RestartNonce == nonce && last.Job.UpgradeMode == mode
		})
		if err != nil {
			return err
		}
		jm, err := tn.jobManager(ctx, fd)
		if err != nil || jm == nil || jm.UID == oldJM.UID {
			return fmt.Errorf("no new JobManager Deployment (%v)", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	conf, err := tn.flinkConfig(ctx, fd)
	if err != nil {
		return err
	}
	return tn.checkUpgradeRestore(ctx, what, mode, before, fd, conf, oldHA)
}

// checkUpgradeRestore checks where the job of fd, upgraded (what) from
// before with mode, took its state from: for savepoint, the upgrade
// savepoint recorded in status and in the new cluster's configuration
// conf; for last-state, no savepoint, the same job id and the HA
// checkpoint metadata oldHA kept through the upgrade.
func (tn *tenant) checkUpgradeRestore(ctx context.Context, what string, mode v1beta1.UpgradeMode, before, fd *v1beta1.FlinkDeployment, conf string, oldHA *corev1.ConfigMap) error {
	st := fd.Status.JobStatus
	switch mode {
	case v1beta1.UpgradeModeSavepoint:
		// A savepoint was taken for the upgrade, recorded, and the new
		// cluster starts from it.
		sp := st.SavepointInfo
		if st.UpgradeSavepointPath == "" || sp == nil || sp.LastSavepoint == nil || sp.LastSavepoint.Location != st.UpgradeSavepointPath || sp.LastSavepoint.TriggerType != v1beta1.TriggerUpgrade {
			return fmt.Errorf("%s: no upgrade savepoint recorded: %s, savepointInfo %+v", what, describe(fd), sp)
		}
		if !strings.Contains(conf, st.UpgradeSavepointPath) {
			return fmt.Errorf("%s: the new cluster does not start from the savepoint %s", what, st.UpgradeSavepointPath)
		}
	case v1beta1.UpgradeModeLastState:
		// No savepoint: the job (same id, as Flink gives an HA application
		// job) restores from the HA metadata, which the hub kept through
		// the upgrade.
		if st.UpgradeSavepointPath != "" {
			return fmt.Errorf("%s: took a savepoint %s", what, st.UpgradeSavepointPath)
		}
		if st.JobID != before.Status.JobStatus.JobID {
			return fmt.Errorf("%s: job id changed from %s to %s", what, before.Status.JobStatus.JobID, st.JobID)
		}
		ha, err := tn.haCheckpoints(ctx, fd)
		if err != nil {
			return err
		}
		if oldHA == nil || ha == nil || ha.UID != oldHA.UID {
			return fmt.Errorf("%s: the HA checkpoint metadata was not kept through the upgrade", what)
		}
		if p := before.Status.JobStatus.UpgradeSavepointPath; p != "" && strings.Contains(conf, p) {
			return fmt.Errorf("%s: the new cluster starts from the old savepoint %s", what, p)
		}
	}
	return nil
}

// gone reports whether the FlinkDeployment and every member object of its
// Flink cluster are gone; it keeps the FlinkDeployment in *last while it is
// there.
func (tn *tenant) gone(ctx context.Context, name string, last **v1beta1.FlinkDeployment) (bool, error) {
	fd, err := tn.get(ctx, name)
	switch {
	case err == nil:
		*last = fd
		return false, fmt.Errorf("still there, finalizers %v", fd.Finalizers)
	case !apierrors.IsNotFound(err):
		return false, err
	}
	left, err := tn.leftovers(ctx, name)
	if err != nil {
		return false, err
	}
	if len(left) > 0 {
		return false, fmt.Errorf("left in the member: %v", left)
	}
	return true, nil
}

// deleteSessionJobs deletes every FlinkSessionJob of the tenant's
// namespace, as `kubectl delete`, and waits until the hub finalized them
// (cancelling their jobs).
func (tn *tenant) deleteSessionJobs(ctx context.Context) error {
	if err := tn.c.DeleteAllOf(ctx, &v1beta1.FlinkSessionJob{}, client.InNamespace(tenantNamespace)); err != nil {
		return err
	}
	return framework.EventuallyEvery(ctx, stepTimeout, tenantPoll, func(ctx context.Context) (bool, error) {
		var left v1beta1.FlinkSessionJobList
		err := tn.c.List(ctx, &left, client.InNamespace(tenantNamespace))
		return err == nil && len(left.Items) == 0, nil
	})
}

// deleteAndWait deletes the FlinkDeployment, as `kubectl delete`, and
// waits until the hub has finalized it (the object is gone, its finalizer
// removed) and nothing of its Flink cluster is left in the member.
func (tn *tenant) deleteAndWait(ctx context.Context, name string) error {
	fd, err := tn.get(ctx, name)
	if err != nil {
		return err
	}
	if err := tn.c.Delete(ctx, fd); err != nil {
		return err
	}
	var last *v1beta1.FlinkDeployment
	var lastErr error
	err = framework.EventuallyEvery(ctx, stepTimeout, tenantPoll, func(ctx context.Context) (bool, error) {
		rctx, cancel := readContext(ctx)
		defer cancel()
		gone, err := tn.gone(rctx, name, &last)
		lastErr = err
		return gone && err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("%s/%s: deletion: %v; last: %v\n%s%s", tn.member, name, err, lastErr, describe(last), tn.hubLogLines(name))
	}
	return nil
}
