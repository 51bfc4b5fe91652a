package fleetindex

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

// Feeder keeps the deployments table in step with the FlinkDeployment
// informers of the engaged members. It is a multicluster-runtime Runnable:
// add it to the multicluster manager.
//
// Invariants: Engage never blocks on the member (an unreachable member must
// not hold up the others); a member's rows are removed when its engagement
// ends, unless a newer engagement of the same name (rotated credentials)
// has taken over, which instead drops the rows its informer no longer has
// once it has synced.
type Feeder struct {
	index *Index
	retry time.Duration

	mu          sync.Mutex
	engagements map[string]uint64
	next        uint64
}

// NewFeeder returns a Feeder writing into index; retry is the wait between
// attempts to watch a member that does not serve FlinkDeployments yet.
func NewFeeder(index *Index, retry time.Duration) *Feeder {
	return &Feeder{index: index, retry: retry, engagements: map[string]uint64{}}
}

// Start implements manager.Runnable; the work happens per engagement.
func (f *Feeder) Start(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Engage implements multicluster.Aware.
func (f *Feeder) Engage(ctx context.Context, name multicluster.ClusterName, cl cluster.Cluster) error {
	f.mu.Lock()
	f.next++
	gen := f.next
	f.engagements[string(name)] = gen
	f.mu.Unlock()
	go f.feed(ctx, string(name), gen, cl)
	return nil
}

func (f *Feeder) current(name string, gen uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.engagements[name] == gen
}

func (f *Feeder) feed(ctx context.Context, name string, gen uint64, cl cluster.Cluster) {
	logger := log.FromContext(ctx).WithValues("cluster", name)
	// The member may not serve FlinkDeployments yet (crdinstall is
	// installing the CRD, or the member is unreachable): keep trying.
	var inf cache.Informer
	err := wait.PollUntilContextCancel(ctx, f.retry, true, func(ctx context.Context) (bool, error) {
		var err error
		inf, err = cl.GetCache().GetInformer(ctx, &flinkv1beta1.FlinkDeployment{}, cache.BlockUntilSynced(false))
		if err != nil {
			logger.V(1).Info("cannot watch FlinkDeployments yet; will retry", "error", err.Error())
		}
		return err == nil, nil
	})
	if err != nil {
		return // the engagement ended
	}
	upsert := func(obj any) {
		if fd, ok := obj.(*flinkv1beta1.FlinkDeployment); ok && f.current(name, gen) {
			d := FromFlinkDeployment(name, fd)
			d.engagement = gen
			f.index.UpsertDeployment(d)
		}
	}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    upsert,
		UpdateFunc: func(_, obj any) { upsert(obj) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if fd, ok := obj.(*flinkv1beta1.FlinkDeployment); ok && f.current(name, gen) {
				f.index.DeleteDeployment(Key{Cluster: name, Namespace: fd.Namespace, Name: fd.Name})
			}
		},
	})
	if err != nil {
		logger.Error(err, "cannot watch FlinkDeployments for the fleet index")
		return
	}
	go func() {
		if toolscache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
			// Rows of an earlier engagement that this one's list did not
			// bring back belong to deleted deployments.
			f.index.deleteClusterDeployments(name, func(d *Deployment) bool { return d.engagement != gen })
		}
	}()
	<-ctx.Done()
	_ = inf.RemoveEventHandler(reg)
	f.mu.Lock()
	last := f.engagements[name] == gen
	if last {
		delete(f.engagements, name)
	}
	f.mu.Unlock()
	if last {
		f.index.deleteClusterDeployments(name, func(*Deployment) bool { return true })
	}
}

// FromFlinkDeployment is the index row of a member's FlinkDeployment.
func FromFlinkDeployment(cluster string, fd *flinkv1beta1.FlinkDeployment) Deployment {
	d := Deployment{
		Cluster:        cluster,
		Namespace:      fd.Namespace,
		Name:           fd.Name,
		LifecycleState: string(fd.Status.LifecycleState),
		JobState:       string(fd.Status.JobStatus.State),
		FlinkVersion:   string(fd.Spec.FlinkVersion),
		Mode:           string(fd.Spec.Mode),
		Error:          fd.Status.Error,
	}
	if d.Mode == "" {
		d.Mode = string(flinkv1beta1.ModeNative)
	}
	if ts := fd.Status.ReconciliationStatus.ReconciliationTimestamp; ts > 0 {
		t := time.UnixMilli(ts).UTC()
		d.LastReconcile = &t
	}
	return d
}
