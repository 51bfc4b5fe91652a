package memberkind_test

import (
	"context"
	"maps"
	"os"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/hubtest"
	"github.com/flink-hub/flink-hub/internal/controllers/memberkind"
	"github.com/flink-hub/flink-hub/internal/sharding/handoff"
	"github.com/flink-hub/flink-hub/internal/sharding/listconfirm"
)

var member *framework.ControlPlane

func TestMain(m *testing.M) {
	os.Exit(framework.RunWithControlPlane(m, framework.ControlPlaneOptions{Name: "memberkind", CRDDirs: []string{framework.CRDDir()}},
		func(cp *framework.ControlPlane) { member = cp }))
}

// cachedMember is a member cluster whose cache holds one fixed copy of a
// session job (none when cached is nil); its live reads go to the member
// apiserver with the identity `cluster add` gives the hub, and are counted.
type cachedMember struct {
	cluster.Cluster
	live      client.Client
	cached    *v1beta1.FlinkSessionJob
	liveReads *atomic.Int32
}

func (c cachedMember) GetCluster(context.Context, multicluster.ClusterName) (cluster.Cluster, error) {
	return c, nil
}

func (c cachedMember) GetClient() client.Client { return fixedCache{Client: c.live, cached: c.cached} }

func (c cachedMember) GetAPIReader() client.Reader {
	return hubtest.CountingReader[*v1beta1.FlinkSessionJob]{Reader: c.live, Reads: c.liveReads}
}

// fixedCache answers Gets of session jobs with its one copy.
type fixedCache struct {
	client.Client
	cached *v1beta1.FlinkSessionJob
}

func (c fixedCache) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	job, ok := obj.(*v1beta1.FlinkSessionJob)
	if !ok || c.cached == nil || key != client.ObjectKeyFromObject(c.cached) {
		return apierrors.NewNotFound(schema.GroupResource{Group: v1beta1.GroupVersion.Group, Resource: "flinksessionjobs"}, key.Name)
	}
	c.cached.DeepCopyInto(job)
	return nil
}

// TestReadAfterHandoff: a session job's (or snapshot's) reconcile reads
// the cache, except the first one after its shard was taken over, which
// uses the cached copy only when a list of the namespace, started after
// the acquisition, saw that very version, and else reads it live.
func TestReadAfterHandoff(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := member.HubIdentity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	live, err := client.New(cfg, client.Options{Scheme: framework.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	job := &v1beta1.FlinkSessionJob{
		ObjectMeta: metav1.ObjectMeta{Name: "read-after-handoff", Namespace: metav1.NamespaceDefault},
		Spec:       v1beta1.FlinkSessionJobSpec{DeploymentName: "session", Job: &v1beta1.JobSpec{JarURI: "https://jars.example/job.jar", Parallelism: 1}},
	}
	if err := member.Client.Create(ctx, job); err != nil {
		t.Fatal(err)
	}
	old := job.DeepCopy()
	patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"moved-on":"yes"}}}`))
	if err := member.Client.Patch(ctx, job, patch); err != nil {
		t.Fatal(err)
	}
	current := job.DeepCopy()
	// A cached copy behind the apiserver with what the object no longer
	// has: a live read must not keep it.
	staleOnly := old.DeepCopy()
	staleOnly.Annotations = map[string]string{"only-in-the-stale-copy": "yes"}
	check := listconfirm.New(v1beta1.GroupVersion.WithKind("FlinkSessionJobList"))
	first := func() context.Context { return handoff.WithFirstSince(ctx, time.Now()) }
	cases := []struct {
		name      string
		ctx       func() context.Context
		cached    *v1beta1.FlinkSessionJob
		check     flinkdeployment.CacheChecker
		liveReads int32
		want      *v1beta1.FlinkSessionJob
	}{
		{"a later reconcile reads the cache", func() context.Context { return ctx }, old, check, 0, old},
		{"first: a list after the acquisition saw the cached version", first, current, check, 0, current},
		{"first: the cache is behind the list", first, old, check, 1, current},
		{"first: the cache is behind, with a field since removed", first, staleOnly, check, 1, current},
		{"first: nothing confirms the cache", first, current, nil, 1, current},
		{"first: not cached yet", first, nil, check, 1, current},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reads := &atomic.Int32{}
			members := cachedMember{live: live, cached: tc.cached, liveReads: reads}
			req := mcreconcile.Request{ClusterName: "member", Request: reconcile.Request{NamespacedName: client.ObjectKeyFromObject(job)}}
			got := &v1beta1.FlinkSessionJob{}
			_, found, err := memberkind.Read(tc.ctx(), members, tc.check, req, got)
			if err != nil || !found {
				t.Fatalf("Read: found %t, %v", found, err)
			}
			if n := reads.Load(); n != tc.liveReads {
				t.Errorf("%d live reads, want %d", n, tc.liveReads)
			}
			if got.ResourceVersion != tc.want.ResourceVersion {
				t.Errorf("read version %s, want %s (old %s, current %s)", got.ResourceVersion, tc.want.ResourceVersion, old.ResourceVersion, current.ResourceVersion)
			}
			if !maps.Equal(got.Annotations, tc.want.Annotations) {
				t.Errorf("read annotations %v, want %v", got.Annotations, tc.want.Annotations)
			}
		})
	}
}
