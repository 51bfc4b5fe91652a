package hub

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/sharding/shardkey"
)

// TestSnapshotOwnerCrashMidSnapshot SIGKILLs the replica that owns a
// FlinkStateSnapshot (its own key) while its savepoint is in flight.
// Another replica follows the recorded trigger: the snapshot completes
// with the one savepoint Flink took.
func TestSnapshotOwnerCrashMidSnapshot(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	m := fleet.Members[0]
	fd := createStable(t, ctx, m, fromExample(t, ctx, m, "basic-checkpoint-ha/basic-checkpoint-ha-example", "crash-snapshots", "source"))
	if err := sim.SetFaults(m.Name, fd.Namespace, fd.Name, flinksim.ClusterFaults{JobManager: jobmanager.Faults{SavepointDuration: 3 * time.Second}}); err != nil {
		t.Fatal(err)
	}
	snap := &v1beta1.FlinkStateSnapshot{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: "mid-crash"},
		Spec: v1beta1.FlinkStateSnapshotSpec{JobReference: &v1beta1.JobReference{Kind: v1beta1.JobKindFlinkDeployment, Name: fd.Name}, Savepoint: &v1beta1.SavepointSpec{}}}
	victim, err := keyOwner(ctx, shardkey.Key{Cluster: m.Name, Namespace: snap.Namespace, Name: snap.Name, Kind: shardkey.KindSnapshot})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Client.Create(ctx, snap); err != nil {
		t.Fatal(err)
	}
	var got v1beta1.FlinkStateSnapshot
	killWhen(t, victim, func() (bool, any) {
		err := m.Client.Get(ctx, client.ObjectKeyFromObject(snap), &got)
		return err == nil && got.Status.State == v1beta1.SnapshotInProgress && got.Status.TriggerID != "", got.Status
	})
	if err := framework.Eventually(ctx, 2*time.Minute, func(ctx context.Context) (bool, error) {
		err := m.Client.Get(ctx, client.ObjectKeyFromObject(snap), &got)
		return err == nil && got.Status.State == v1beta1.SnapshotCompleted, err
	}); err != nil {
		t.Fatalf("the snapshot did not complete after its owner crashed: %v; status %+v", err, got.Status)
	}
	jobs := sim.JobManager(m.Name, fd.Namespace, fd.Name).Jobs()
	if len(jobs) != 1 || jobs[0].SavepointTriggers != 1 || jobs[0].Savepoint == nil || jobs[0].Savepoint.Path != got.Status.Path {
		t.Fatalf("the job %+v: exactly one savepoint wanted, the snapshot's %s", jobs, got.Status.Path)
	}
}
