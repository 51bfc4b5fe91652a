package flinkdeployment_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
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
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/hubtest"
	"github.com/flink-hub/flink-hub/internal/sharding/handoff"
	"github.com/flink-hub/flink-hub/internal/sharding/listconfirm"
)

// staleCluster is the member cluster as a replica that read one
// FlinkDeployment earlier sees it: that read, and everything else live.
// liveReads counts the live reads of FlinkDeployments.
type staleCluster struct {
	cluster.Cluster
	stale     *v1beta1.FlinkDeployment
	liveReads *atomic.Int32
}

func (c staleCluster) GetAPIReader() client.Reader {
	return hubtest.CountingReader[*v1beta1.FlinkDeployment]{Reader: c.Cluster.GetAPIReader(), Reads: c.liveReads}
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

// staleReconciler is a reconciler whose cache holds stale for its
// FlinkDeployment, and a request for it.
func staleReconciler(stale *v1beta1.FlinkDeployment) (*flinkdeployment.Reconciler, mcreconcile.Request) {
	r, req, _ := countingStaleReconciler(stale)
	return r, req
}

// countingStaleReconciler is staleReconciler, confirming its cache by
// lists as the hub does (listconfirm), with a count of its live reads of
// FlinkDeployments.
func countingStaleReconciler(stale *v1beta1.FlinkDeployment) (*flinkdeployment.Reconciler, mcreconcile.Request, *atomic.Int32) {
	reads := &atomic.Int32{}
	r := &flinkdeployment.Reconciler{
		Clusters:    staleCluster{Cluster: memberCluster, stale: stale, liveReads: reads},
		Deployers:   reconciler.Deployers,
		JobManagers: reconciler.JobManagers,
		Options:     reconciler.Options,
		CacheCheck:  listconfirm.New(v1beta1.GroupVersion.WithKind("FlinkDeploymentList")),
	}
	return r, mcreconcile.Request{ClusterName: memberName, Request: reconcile.Request{NamespacedName: client.ObjectKeyFromObject(stale)}}, reads
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

			r, req := staleReconciler(stale)
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

// TestFirstReconcileAfterHandoffReadsLive: a replica that just took a key
// over may have a cache that saw the spec change but not the previous
// owner's last status write (the upgrade done). Acting on the cache would
// start the upgrade again; the write fence turns that into a conflict.
// The first reconcile after the handoff reads the apiserver instead and
// finds nothing to do.
func TestFirstReconcileAfterHandoffReadsLive(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, haExample(t, "handoff-live", v1beta1.UpgradeModeSavepoint))
	stale, err := get(ctx, fd)
	if err != nil {
		t.Fatal(err)
	}
	patchSpec(t, ctx, fd, `{"spec":{"job":{"parallelism":3}}}`)
	upgraded := waitFor(t, ctx, fd, 2*time.Minute, "upgraded and running", func(got *v1beta1.FlinkDeployment) bool {
		var last struct{ Spec v1beta1.FlinkDeploymentSpec }
		_ = json.Unmarshal([]byte(got.Status.ReconciliationStatus.LastReconciledSpec), &last)
		return running(got) && got.Status.ObservedGeneration == got.Generation && last.Spec.Job != nil && last.Spec.Job.Parallelism == 3
	})
	jm := jobManager(t, ctx, fd)
	// The cache saw the spec change, not the status that followed it.
	stale.Spec.Job.Parallelism = 3

	r, req, reads := countingStaleReconciler(stale)
	if _, err := r.Reconcile(handoff.WithFirstSince(ctx, time.Now()), req); err != nil {
		t.Fatalf("the first reconcile after a handoff: %v, want it to read the upgraded object live and find nothing to do", err)
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("the first reconcile read the FlinkDeployment live %d times, want once: the list shows the cached copy is old", n)
	}
	// The same reconcile not marked first acts on the cache: the fence
	// stops it (this is what the live read spares).
	if _, err := r.Reconcile(ctx, req); !apierrors.IsConflict(err) {
		t.Fatalf("a later reconcile on the stale cache returned %v, want a conflict", err)
	}
	after, err := get(ctx, fd)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status.ReconciliationStatus.LastReconciledSpec != upgraded.Status.ReconciliationStatus.LastReconciledSpec ||
		after.Status.ReconciliationStatus.State != v1beta1.ReconciliationDeployed {
		t.Errorf("status moved after the handoff: %s %s", after.Status.ReconciliationStatus.State, after.Status.ReconciliationStatus.LastReconciledSpec)
	}
	if now := jobManager(t, ctx, fd); now.UID != jm.UID || !now.DeletionTimestamp.IsZero() {
		t.Error("the upgraded Flink cluster was replaced again")
	}
	if job := simJob(fd); job == nil || job.SavepointTriggers != 0 || job.State != "RUNNING" {
		t.Errorf("the upgraded job was touched: %+v", job)
	}

	// A cached copy from before the finalizer was written is read from
	// the cache even on the first reconcile: the finalizer patch, fenced,
	// stops it before anything is done.
	beforeFinalizer := stale.DeepCopy()
	beforeFinalizer.Finalizers = nil
	r, req = staleReconciler(beforeFinalizer)
	if _, err := r.Reconcile(handoff.WithFirst(ctx), req); !apierrors.IsConflict(err) {
		t.Fatalf("the first reconcile of a cached copy without the finalizer returned %v, want the finalizer patch's conflict", err)
	}
	if now := jobManager(t, ctx, fd); now.UID != jm.UID || !now.DeletionTimestamp.IsZero() {
		t.Error("a reconcile of a copy without the finalizer replaced the Flink cluster")
	}
}

// TestFirstReconcileAfterHandoffTrustsAListedCache: the first reconcile of
// a key taken over uses its cached copy, without a live read, when a list
// of the member started after the shard's acquisition shows that very
// version; a list from before a later acquisition does not count.
func TestFirstReconcileAfterHandoffTrustsAListedCache(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, haExample(t, "handoff-listed", v1beta1.UpgradeModeSavepoint))
	current, err := get(ctx, fd)
	if err != nil {
		t.Fatal(err)
	}
	r, req, reads := countingStaleReconciler(current)
	if _, err := r.Reconcile(handoff.WithFirstSince(ctx, time.Now()), req); err != nil {
		t.Fatalf("the first reconcile of a current cached copy: %v", err)
	}
	if n := reads.Load(); n != 0 {
		t.Errorf("the first reconcile read the FlinkDeployment live %d times, want none: a list after the acquisition showed the cached version", n)
	}

	// The object moves on; the cache does not see it; the shard is
	// acquired again. The earlier list proved the old version current,
	// before this acquisition: the reconcile must read live.
	patch := `{"metadata":{"annotations":{"moved-on":"yes"}}}`
	if err := fleet.Members[0].Client.Patch(ctx, current.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(handoff.WithFirstSince(ctx, time.Now()), req); err != nil {
		t.Fatalf("the first reconcile after the object moved on: %v, want it to read live and find nothing to do", err)
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("%d live reads after the object moved on, want 1", n)
	}
}
