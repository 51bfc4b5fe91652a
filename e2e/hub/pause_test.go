package hub

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/sharding/shardkey"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
)

// writeVerbs are the verbs that change what they name.
var writeVerbs = map[string]bool{"create": true, "update": true, "patch": true, "delete": true, "deletecollection": true}

// TestPausedOwnerWritesNothingAfterTakeover freezes (SIGSTOP) the replica
// that owns a savepoint upgrade right after it recorded the savepoint's
// trigger, for twice the lease duration and until another replica took the
// shard over, then lets it run again (SIGCONT) with its reconcile in
// flight (slow JobManager answers hold it inside its Flink call). No write
// of the paused replica lands in the member after that (the member's audit
// log, by User-Agent; events aside) unless it owns the shard again;
// the upgrade ends RUNNING from the one savepoint taken.
func TestPausedOwnerWritesNothingAfterTakeover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	m := fleet.Members[0]
	fd := fromExample(t, ctx, m, "basic-checkpoint-ha/basic-checkpoint-ha-example", "pause", "paused-owner")
	fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeSavepoint
	got := createStable(t, ctx, m, fd)
	// Slow JobManager answers: the owner is frozen inside its Flink call,
	// its reconcile in flight, and goes on with it when it resumes.
	slow := flinksim.ClusterFaults{JobManager: jobmanager.Faults{Latency: 3 * time.Second}}
	if err := sim.SetFaults(m.Name, fd.Namespace, fd.Name, slow); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sim.SetFaults(m.Name, fd.Namespace, fd.Name, flinksim.ClusterFaults{}) }()
	if err := m.Client.Patch(ctx, got.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"spec":{"job":{"parallelism":3}}}`))); err != nil {
		t.Fatal(err)
	}
	// Freeze the owner once the savepoint's trigger is recorded. The owner
	// is read then: a loaded hub may have moved the shard since the
	// FlinkDeployment was created.
	if err := framework.Eventually(ctx, 2*time.Minute, func(ctx context.Context) (bool, error) {
		err := m.Client.Get(ctx, client.ObjectKeyFromObject(fd), got)
		return err == nil && got.Status.JobStatus.SavepointInfo != nil && got.Status.JobStatus.SavepointInfo.TriggerID != "", err
	}); err != nil {
		t.Fatalf("no savepoint trigger recorded: %v", err)
	}
	victim, err := owner(ctx, m.Name, fd)
	if err != nil {
		t.Fatal(err)
	}
	p := replicaNamed(victim)
	if p == nil {
		t.Fatalf("owner %s is not a running replica", victim)
	}
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			if err := p.Signal(syscall.SIGCONT); err != nil {
				t.Error(err)
			}
		}
	}
	defer resume()
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		holder, err := owner(ctx, m.Name, fd)
		return err == nil && holder != victim && time.Since(stopped) >= 2*leaseDuration, nil
	}); err != nil {
		t.Fatalf("no other replica took the shard over from the frozen owner: %v", err)
	}
	resume()
	resumedAt := time.Now()
	if err := sim.SetFaults(m.Name, fd.Namespace, fd.Name, flinksim.ClusterFaults{}); err != nil {
		t.Fatal(err)
	}

	got = waitUpgraded(t, ctx, m, fd, 3, "after the pause")
	// The resumed replica runs again: it renewed its peer Lease.
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		var l coordinationv1.Lease
		err := fleet.Hub.Client.Get(ctx, types.NamespacedName{Namespace: hubNamespace, Name: shardlease.PeerLeaseName(victim)}, &l)
		return err == nil && l.Spec.RenewTime != nil && l.Spec.RenewTime.After(resumedAt), nil
	}); err != nil {
		t.Fatalf("the resumed replica never renewed its peer Lease: %v", err)
	}

	checkRestoredFromTheOneSavepoint(t, m, fd, got)

	// Since it resumed, the paused replica's writes in the namespace
	// landed only while it owned the shard again (if it does: from its
	// acquisition on).
	checkNoWriteAfterTakeover(t, ctx, m, fd, victim, stopped, resumedAt)
}

// checkRestoredFromTheOneSavepoint checks that the upgrade of fd in member
// m, got after it, took exactly one savepoint and that the job runs
// restored from it.
func checkRestoredFromTheOneSavepoint(t *testing.T, m *framework.ControlPlane, fd, got *v1beta1.FlinkDeployment) {
	t.Helper()
	info := got.Status.JobStatus.SavepointInfo
	if info == nil || len(info.SavepointHistory) != 1 || info.SavepointHistory[0].TriggerType != v1beta1.TriggerUpgrade {
		t.Fatalf("exactly one upgrade savepoint must have been taken: %+v", info)
	}
	jm := sim.JobManager(m.Name, fd.Namespace, fd.Name)
	if jm == nil {
		t.Fatal("no running JobManager")
	}
	jobs := jm.Jobs()
	if len(jobs) == 0 || jobs[len(jobs)-1].Spec.Restore == nil || jobs[len(jobs)-1].Spec.Restore.Path != info.SavepointHistory[0].Location {
		t.Fatalf("the job must restore from the one savepoint %s: %+v", info.SavepointHistory[0].Location, jobs)
	}
}

// checkNoWriteAfterTakeover checks in member m's audit log that no write of
// replica victim in fd's namespace landed between the takeover (victim was
// stopped at stopped, resumed at resumedAt) and victim owning fd's shard
// again, if it does; events aside. Some of its writes must precede the
// pause, or the audit could not tell the replicas apart.
func checkNoWriteAfterTakeover(t *testing.T, ctx context.Context, m *framework.ControlPlane, fd *v1beta1.FlinkDeployment, victim string, stopped, resumedAt time.Time) {
	t.Helper()
	// When the victim holds a key's shard again, its writes of that key
	// are its own. The FlinkStateSnapshots recording the FlinkDeployment's
	// savepoints are created (and deleted, when the history drops them)
	// by the FlinkDeployment's reconcile, under its key; the snapshot
	// controller's own writes of them (status, finalizer) are under their
	// keys, whose shards the resumed replica may take back legitimately.
	regained := func(key shardkey.Key) time.Time {
		l, err := keyLease(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity == victim && l.Spec.AcquireTime != nil {
			return l.Spec.AcquireTime.Time
		}
		return time.Now().Add(time.Hour)
	}
	keyOf := func(w framework.Request) shardkey.Key {
		if w.Resource == "flinkstatesnapshots" && w.Verb != "create" && w.Verb != "delete" {
			return shardkey.Key{Cluster: m.Name, Namespace: w.Namespace, Name: w.Name, Kind: shardkey.KindSnapshot}
		}
		return shardkey.Key{Cluster: m.Name, Namespace: fd.Namespace, Name: fd.Name}
	}
	writes, err := m.Requests(func(r framework.Request) bool {
		// Events are not state: the resumed reconcile may still tell what it
		// did before the pause (its Flink call), then its writes are
		// refused.
		return userAgentOf(r.UserAgent) == "flink-hub/"+victim && r.Namespace == fd.Namespace && writeVerbs[r.Verb] && r.Resource != "events"
	})
	if err != nil {
		t.Fatal(err)
	}
	var before, refused int
	for _, w := range writes {
		switch {
		case w.Received.Before(stopped):
			before++
		case w.Code == 409:
			refused++
		case w.Code < 300 && w.Received.Before(regained(keyOf(w))):
			t.Errorf("a write of the paused replica landed after the takeover: %s (%d) at %s, resumed %s", w, w.Code, w.Received.Format(time.StampMilli), resumedAt.Format(time.StampMilli))
		}
	}
	t.Logf("the paused replica's writes in the namespace: %d before the pause, %d refused by the fence after it", before, refused)
	if before == 0 {
		t.Errorf("found no write of %s before the pause: the audit cannot tell the replicas apart", victim)
	}
}

// userAgentOf is the part of a User-Agent before its first space
// (client-go appends the platform and version after it).
func userAgentOf(ua string) string {
	name, _, _ := strings.Cut(ua, " ")
	return name
}
