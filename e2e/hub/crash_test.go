package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/observability/jaegerquery"
	"github.com/flink-hub/flink-hub/internal/sharding"
	"github.com/flink-hub/flink-hub/internal/sharding/shardkey"
)

// killed are the replicas the tests killed on purpose.
var killed = map[string]bool{}

// keyLease is the fence Lease of the shard of key.
func keyLease(ctx context.Context, key shardkey.Key) (*coordinationv1.Lease, error) {
	shard := sharding.ShardOf(key.String(), sharding.DefaultShards)
	var l coordinationv1.Lease
	if err := fleet.Hub.Client.Get(ctx, types.NamespacedName{Namespace: hubNamespace, Name: shardlease.ShardLeaseName(shard)}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// owner is the replica holding the shard fence of a FlinkDeployment.
func owner(ctx context.Context, cluster string, fd *v1beta1.FlinkDeployment) (string, error) {
	return keyOwner(ctx, shardkey.Key{Cluster: cluster, Namespace: fd.Namespace, Name: fd.Name})
}

// keyOwner is the replica holding the shard fence of key.
func keyOwner(ctx context.Context, key shardkey.Key) (string, error) {
	l, err := keyLease(ctx, key)
	if err != nil {
		return "", err
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" {
		return "", fmt.Errorf("lease %s has no holder", l.Name)
	}
	return *l.Spec.HolderIdentity, nil
}

// fromExample is the upstream example named example as namespace/name in
// member m (the namespace made if missing), not created yet.
func fromExample(t *testing.T, ctx context.Context, m *framework.ControlPlane, example, ns, name string) *v1beta1.FlinkDeployment {
	t.Helper()
	base, err := examples.Named(example)
	if err != nil {
		t.Fatal(err)
	}
	namespace(t, ctx, m, ns)
	fd := base.DeepCopy()
	fd.Namespace, fd.Name = ns, name
	return fd
}

func replicaNamed(name string) *framework.Process {
	for _, r := range replicas {
		if r.Name == name {
			if done, _ := r.Exited(); !done {
				return r
			}
		}
	}
	return nil
}

// Moments of an upgrade at which TestOwnerCrashDuringUpgrade kills the
// owner.
var (
	// savepointInFlight: the trigger id is recorded, Flink has not finished
	// the savepoint (or its answer was lost).
	savepointInFlight = func(_ context.Context, _ *framework.ControlPlane, fd *v1beta1.FlinkDeployment) bool {
		info := fd.Status.JobStatus.SavepointInfo
		return info != nil && info.TriggerID != "" && info.TriggerType == v1beta1.TriggerUpgrade && fd.Status.JobStatus.UpgradeSavepointPath == ""
	}
	// savepointRecorded: the upgrade savepoint's path is in status.
	savepointRecorded = func(_ context.Context, _ *framework.ControlPlane, fd *v1beta1.FlinkDeployment) bool {
		return fd.Status.JobStatus.UpgradeSavepointPath != ""
	}
	// jobManagerDeleted: the old JobManager is going or gone, the new one
	// not deployed yet.
	jobManagerDeleted = func(ctx context.Context, m *framework.ControlPlane, fd *v1beta1.FlinkDeployment) bool {
		if fd.Status.ReconciliationStatus.State != v1beta1.ReconciliationUpgrading {
			return false
		}
		var dep appsv1.Deployment
		err := m.Client.Get(ctx, client.ObjectKeyFromObject(fd), &dep)
		return apierrors.IsNotFound(err) || (err == nil && !dep.DeletionTimestamp.IsZero())
	}
)

// TestOwnerCrashDuringUpgrade SIGKILLs the replica that owns an upgrade at
// each risky moment of each upgrade mode: with the savepoint trigger
// recorded but not answered (Flink still taking it, or its answer lost),
// with the savepoint recorded, and between the old JobManager's deletion
// and the new deployment. Another replica finishes the upgrade from the
// status alone, with no manual step: the job runs from the right state
// (the one savepoint, the latest checkpoint, or empty), and a savepoint
// upgrade took exactly one savepoint, the others none.
func TestOwnerCrashDuringUpgrade(t *testing.T) {
	cases := []struct {
		name   string
		mode   v1beta1.UpgradeMode
		faults jobmanager.Faults
		// at reports the moment to kill the owner; nil: no crash.
		at func(ctx context.Context, m *framework.ControlPlane, fd *v1beta1.FlinkDeployment) bool
	}{
		// Without a crash the owner's spans are exported, so its trace shows
		// the stop-with-savepoint call (a SIGKILLed replica loses the spans
		// it had not exported yet).
		{name: "savepoint without a crash", mode: v1beta1.UpgradeModeSavepoint},
		{name: "savepoint while Flink takes it", mode: v1beta1.UpgradeModeSavepoint,
			faults: jobmanager.Faults{SavepointDuration: 3 * time.Second}, at: savepointInFlight},
		{name: "savepoint whose trigger answer is lost", mode: v1beta1.UpgradeModeSavepoint,
			faults: jobmanager.Faults{LoseTriggerAnswers: true}, at: savepointInFlight},
		{name: "savepoint recorded", mode: v1beta1.UpgradeModeSavepoint, at: savepointRecorded},
		{name: "savepoint after the JobManager is deleted", mode: v1beta1.UpgradeModeSavepoint, at: jobManagerDeleted},
		{name: "last-state after the JobManager is deleted", mode: v1beta1.UpgradeModeLastState, at: jobManagerDeleted},
		{name: "stateless after the JobManager is deleted", mode: v1beta1.UpgradeModeStateless, at: jobManagerDeleted},
	}
	m := fleet.Members[0]
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			fd := fromExample(t, ctx, m, "basic-checkpoint-ha/basic-checkpoint-ha-example", "crash", fmt.Sprintf("crash-%d", i))
			fd.Spec.Job.UpgradeMode = tc.mode
			got := createStable(t, ctx, m, fd)
			waitCheckpointCompleted(t, ctx, m, fd)
			if err := sim.SetFaults(m.Name, fd.Namespace, fd.Name, flinksim.ClusterFaults{JobManager: tc.faults}); err != nil {
				t.Fatal(err)
			}
			victim, err := owner(ctx, m.Name, fd)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Client.Patch(ctx, got.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"spec":{"job":{"parallelism":3}}}`))); err != nil {
				t.Fatal(err)
			}
			if tc.at != nil {
				killOwnerAt(t, ctx, m, fd, victim, tc.at)
			}

			got = waitUpgraded(t, ctx, m, fd, 3, "after the owner crashed")
			taken := sim.Savepoints(m.Name, fd.Namespace, fd.Name)
			jm := sim.JobManager(m.Name, fd.Namespace, fd.Name)
			if jm == nil {
				t.Fatal("no running JobManager")
			}
			jobs := jm.Jobs()
			if len(jobs) == 0 || jobs[len(jobs)-1].Spec.Parallelism != 3 {
				t.Fatalf("the upgraded job does not run: %+v", jobs)
			}
			restored := jobs[len(jobs)-1].Spec.Restore
			checkRestoredState(t, tc.mode, got, taken, restored)
			if tc.at != nil {
				return
			}
			// The upgrade's trace shows the stop-with-savepoint call.
			checkStopWithSavepointTraced(t, ctx, m, fd)
		})
	}
}

// waitCheckpointCompleted waits until the running job of fd in member m
// completed a checkpoint.
func waitCheckpointCompleted(t *testing.T, ctx context.Context, m *framework.ControlPlane, fd *v1beta1.FlinkDeployment) {
	t.Helper()
	if err := framework.Eventually(ctx, time.Minute, func(context.Context) (bool, error) {
		jm := sim.JobManager(m.Name, fd.Namespace, fd.Name)
		if jm == nil {
			return false, nil
		}
		jobs := jm.Jobs()
		return len(jobs) > 0 && len(jobs[len(jobs)-1].Checkpoints) > 0, nil
	}); err != nil {
		t.Fatalf("no checkpoint completed: %v", err)
	}
}

// checkRestoredState checks the state an upgrade of mode restored the job
// from, against the savepoints Flink took and the upgraded status got: the
// one upgrade savepoint, the latest HA checkpoint, or none.
func checkRestoredState(t *testing.T, mode v1beta1.UpgradeMode, got *v1beta1.FlinkDeployment, taken []jobmanager.Checkpoint, restored *jobmanager.Restore) {
	t.Helper()
	switch mode {
	case v1beta1.UpgradeModeSavepoint:
		info := got.Status.JobStatus.SavepointInfo
		if len(taken) != 1 || info == nil || len(info.SavepointHistory) != 1 || info.SavepointHistory[0].TriggerType != v1beta1.TriggerUpgrade {
			t.Fatalf("exactly one upgrade savepoint must have been taken: Flink took %+v, status %+v", taken, info)
		}
		path := got.Status.JobStatus.UpgradeSavepointPath
		if restored == nil || !restored.IsSavepoint || restored.Path != path || path != info.SavepointHistory[0].Location || path != taken[0].Path {
			t.Fatalf("the job must restore from the one savepoint %s: %+v", path, restored)
		}
	case v1beta1.UpgradeModeLastState:
		if len(taken) != 0 {
			t.Errorf("a last-state upgrade took savepoints: %+v", taken)
		}
		if restored == nil || restored.IsSavepoint || restored.CheckpointID == 0 {
			t.Fatalf("last-state must restore from the latest HA checkpoint, restored %+v", restored)
		}
	case v1beta1.UpgradeModeStateless:
		if len(taken) != 0 {
			t.Errorf("a stateless upgrade took savepoints: %+v", taken)
		}
		if restored != nil {
			t.Fatalf("stateless must start empty, restored %+v", restored)
		}
	}
}

// checkStopWithSavepointTraced checks that a reconcile trace of fd in
// member m shows the stop-with-savepoint call.
func checkStopWithSavepointTraced(t *testing.T, ctx context.Context, m *framework.ControlPlane, fd *v1beta1.FlinkDeployment) {
	t.Helper()
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		traces, err := jaeger.Query.Find(ctx, jaegerquery.Query{Service: "flink-hub", Operation: "Reconcile FlinkDeployment",
			Tags: map[string]string{"flinkhub.cluster": m.Name, "flinkhub.name": fd.Name}, Limit: 50})
		for _, tr := range traces {
			if hasSpan(tr, "flink POST /jobs/{jobid}/stop") {
				return true, nil
			}
		}
		return false, err
	}); err != nil {
		t.Errorf("no reconcile trace of %s with the stop-with-savepoint call: %v", fd.Name, err)
	}
}

// TestShardMovesAreTraced: replacement replicas joined during the crash
// tests, so survivors handed shards off to them; both ends are spans.
func TestShardMovesAreTraced(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for op, tags := range map[string]map[string]string{
		"Acquire shard": nil,
		"Release shard": {"flinkhub.reason": sharding.ReleaseHandoff},
	} {
		if err := framework.Eventually(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
			traces, err := jaeger.Query.Find(ctx, jaegerquery.Query{Service: "flink-hub", Operation: op, Tags: tags, Limit: 1})
			return err == nil && len(traces) > 0, err
		}); err != nil {
			t.Errorf("no %q span with %v: %v", op, tags, err)
		}
	}
}

// killOwnerAt watches fd closely (no backoff) until at says the moment has
// come, SIGKILLs its owner and starts a replacement replica.
func killOwnerAt(t *testing.T, ctx context.Context, m *framework.ControlPlane, fd *v1beta1.FlinkDeployment, victim string,
	at func(context.Context, *framework.ControlPlane, *v1beta1.FlinkDeployment) bool) {
	t.Helper()
	var got v1beta1.FlinkDeployment
	killWhen(t, victim, func() (bool, any) {
		err := m.Client.Get(ctx, client.ObjectKeyFromObject(fd), &got)
		return err == nil && at(ctx, m, &got), got.Status
	})
}

// killWhen polls moment closely (no backoff) for up to a minute until it
// says the moment has come, then SIGKILLs replica victim and starts a
// replacement. moment also returns what to show should the moment never
// come.
func killWhen(t *testing.T, victim string, moment func() (bool, any)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		now, seen := moment()
		if now {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the moment never came; last seen %+v", seen)
		}
	}
	p := replicaNamed(victim)
	if p == nil {
		t.Fatalf("owner %s is not a running replica", victim)
	}
	p.Kill()
	killed[victim] = true
	if _, err := startReplica(fmt.Sprintf("hub-%d", len(replicas))); err != nil {
		t.Fatal(err)
	}
}

// createStable creates fd in member m and waits until it is stable.
func createStable(t *testing.T, ctx context.Context, m *framework.ControlPlane, fd *v1beta1.FlinkDeployment) *v1beta1.FlinkDeployment {
	t.Helper()
	if err := m.Client.Create(ctx, fd); err != nil {
		t.Fatal(err)
	}
	return waitStable(t, ctx, m, fd)
}

// waitStable waits until fd in member m is stable.
func waitStable(t *testing.T, ctx context.Context, m *framework.ControlPlane, fd *v1beta1.FlinkDeployment) *v1beta1.FlinkDeployment {
	t.Helper()
	var got v1beta1.FlinkDeployment
	if err := framework.Eventually(ctx, 2*time.Minute, func(ctx context.Context) (bool, error) {
		err := m.Client.Get(ctx, client.ObjectKeyFromObject(fd), &got)
		return err == nil && stable(&got), err
	}); err != nil {
		t.Fatalf("not running: %v; status %+v", err, got.Status)
	}
	return &got
}

// waitUpgraded waits until fd is stable with the job's parallelism
// reconciled, after what.
func waitUpgraded(t *testing.T, ctx context.Context, m *framework.ControlPlane, fd *v1beta1.FlinkDeployment, parallelism int32, what string) *v1beta1.FlinkDeployment {
	t.Helper()
	var got v1beta1.FlinkDeployment
	if err := framework.Eventually(ctx, 2*time.Minute, func(ctx context.Context) (bool, error) {
		if err := m.Client.Get(ctx, client.ObjectKeyFromObject(fd), &got); err != nil {
			return false, err
		}
		var last struct{ Spec v1beta1.FlinkDeploymentSpec }
		_ = json.Unmarshal([]byte(got.Status.ReconciliationStatus.LastReconciledSpec), &last)
		return stable(&got) && last.Spec.Job != nil && last.Spec.Job.Parallelism == parallelism, nil
	}); err != nil {
		t.Fatalf("upgrade not finished %s: %v; status %+v", what, err, got.Status)
	}
	return &got
}
