package flinkdeployment_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
)

// TestAnotherOperatorsFlinkDeploymentIsLeftAlone: the Apache operator
// beside the hub on a member (it uses the same finalizer and status) writes
// a FlinkDeployment's status after the hub did. The hub then leaves that
// FlinkDeployment alone: a spec change makes it trigger no savepoint,
// replace no cluster and write nothing, and an event says why and how to
// undo a one-off edit. Once the managed fields are cleared as the event
// says, the hub takes the FlinkDeployment back and upgrades it.
func TestAnotherOperatorsFlinkDeploymentIsLeftAlone(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := fleet.Members[0].Client
	fd := deployRunning(t, ctx, haExample(t, "elsewhere", v1beta1.UpgradeModeSavepoint))
	jm := jobManager(t, ctx, fd)

	// The other operator's status write, as its field manager.
	other := client.FieldOwner("flink-kubernetes-operator")
	if err := c.Status().Patch(ctx, fd.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"status":{"clusterInfo":{"managed-by":"apache"}}}`)), other); err != nil {
		t.Fatal(err)
	}
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		return hasEvent(ctx, fd, flinkdeployment.ReasonManagedElsewhere), nil
	}); err != nil {
		t.Fatalf("no %s event: %v", flinkdeployment.ReasonManagedElsewhere, err)
	}
	patchSpec(t, ctx, fd, `{"spec":{"job":{"parallelism":3}}}`)
	before, err := get(ctx, fd)
	if err != nil {
		t.Fatal(err)
	}
	// A reconcile of the changed spec, run to its end, does nothing.
	r, req := staleReconciler(before)
	if res, err := r.Reconcile(ctx, req); err != nil || res.RequeueAfter != r.Options.ReconcileInterval {
		t.Fatalf("a reconcile of a FlinkDeployment another operator manages returned %+v, %v; want to look again in %s", res, err, r.Options.ReconcileInterval)
	}
	after, err := get(ctx, fd)
	if err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != before.ResourceVersion {
		t.Errorf("the hub wrote a FlinkDeployment another operator manages: %+v", after.Status)
	}
	if job := simJob(fd); job == nil || job.SavepointTriggers != 0 || job.State != "RUNNING" {
		t.Errorf("the hub touched the job of a FlinkDeployment another operator manages: %+v", job)
	}
	if now := jobManager(t, ctx, fd); now.UID != jm.UID || !now.DeletionTimestamp.IsZero() {
		t.Error("the hub replaced the Flink cluster of a FlinkDeployment another operator manages")
	}

	// The fix the event gives.
	if err := c.Patch(ctx, fd.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"managedFields":[{}]}}`))); err != nil {
		t.Fatal(err)
	}
	got := waitFor(t, ctx, fd, 2*time.Minute, "taken back and upgraded", func(got *v1beta1.FlinkDeployment) bool {
		var last struct{ Spec v1beta1.FlinkDeploymentSpec }
		_ = json.Unmarshal([]byte(got.Status.ReconciliationStatus.LastReconciledSpec), &last)
		return running(got) && got.Status.ObservedGeneration == got.Generation && last.Spec.Job != nil && last.Spec.Job.Parallelism == 3
	})
	if info := got.Status.JobStatus.SavepointInfo; info == nil || len(info.SavepointHistory) != 1 {
		t.Errorf("the upgrade after the hub took the FlinkDeployment back must take one savepoint: %+v", info)
	}
	if !hasEvent(ctx, fd, flinkdeployment.ReasonManagedByHub) {
		t.Errorf("no %s event", flinkdeployment.ReasonManagedByHub)
	}
}
