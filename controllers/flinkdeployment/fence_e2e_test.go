package flinkdeployment_test

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/controllers/flinkdeployment"
)

// staleCluster is the member cluster as a replica that read one
// FlinkDeployment earlier sees it: that read, and everything else live.
type staleCluster struct {
	cluster.Cluster
	stale *v1beta1.FlinkDeployment
}

func (c staleCluster) GetClient() client.Client {
	return staleClient{Client: c.Cluster.GetClient(), stale: c.stale}
}

func (c staleCluster) GetCluster(context.Context, multicluster.ClusterName) (cluster.Cluster, error) {
	return c, nil
}

type staleClient struct {
	client.Client
	stale *v1beta1.FlinkDeployment
}

func (c staleClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if fd, ok := obj.(*v1beta1.FlinkDeployment); ok && key == client.ObjectKeyFromObject(c.stale) {
		c.stale.DeepCopyInto(fd)
		return nil
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

// TestStaleReadWritesNothing: a reconcile that acts on an outdated read of
// a FlinkDeployment (a replica resumed after a pause past its fence) sees a
// spec change the owner never saw. It gets a conflict and does nothing:
// no status write lands, no savepoint is triggered, the Flink cluster is
// not deleted.
func TestStaleReadWritesNothing(t *testing.T) {
	for _, mode := range []v1beta1.UpgradeMode{v1beta1.UpgradeModeSavepoint, v1beta1.UpgradeModeStateless} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			fd := deployRunning(t, ctx, haExample(t, "stale-"+string(mode), mode))
			stale, err := get(ctx, fd)
			if err != nil {
				t.Fatal(err)
			}
			jm := jobManager(t, ctx, fd)
			// The object moves on after the stale read.
			patch := `{"metadata":{"annotations":{"moved-on":"yes"}}}`
			if err := fleet.Members[0].Client.Patch(ctx, stale.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
				t.Fatal(err)
			}
			before, err := get(ctx, fd)
			if err != nil {
				t.Fatal(err)
			}
			stale.Spec.Job.Parallelism = 5

			r := &flinkdeployment.Reconciler{
				Clusters:    staleCluster{Cluster: memberCluster, stale: stale},
				Deployers:   reconciler.Deployers,
				JobManagers: reconciler.JobManagers,
				Options:     reconciler.Options,
			}
			req := mcreconcile.Request{ClusterName: memberName, Request: reconcile.Request{NamespacedName: client.ObjectKeyFromObject(fd)}}
			_, err = r.Reconcile(ctx, req)
			if !apierrors.IsConflict(err) {
				t.Fatalf("a reconcile of a stale read returned %v, want a conflict", err)
			}
			after, err := get(ctx, fd)
			if err != nil {
				t.Fatal(err)
			}
			if after.Status.ReconciliationStatus.LastReconciledSpec != before.Status.ReconciliationStatus.LastReconciledSpec ||
				after.Status.ReconciliationStatus.State != before.Status.ReconciliationStatus.State {
				t.Errorf("the stale reconcile's status write landed: %s %s", after.Status.ReconciliationStatus.State, after.Status.ReconciliationStatus.LastReconciledSpec)
			}
			if job := simJob(fd); job == nil || job.SavepointTriggers != 0 || job.State != "RUNNING" {
				t.Errorf("the stale reconcile touched the job: %+v", job)
			}
			if now := jobManager(t, ctx, fd); now.UID != jm.UID || !now.DeletionTimestamp.IsZero() {
				t.Error("the stale reconcile deleted the Flink cluster")
			}
		})
	}
}
