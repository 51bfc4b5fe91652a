package fleetindex

import (
	"context"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/problem"
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
	// rows records which engagement last wrote each row, so a new
	// engagement's list removes the rows of deployments deleted meanwhile.
	rows map[Key]uint64
	next uint64
}

// NewFeeder returns a Feeder writing into index; retry is the wait between
// attempts to watch a member that does not serve FlinkDeployments yet.
func NewFeeder(index *Index, retry time.Duration) *Feeder {
	return &Feeder{index: index, retry: retry, engagements: map[string]uint64{}, rows: map[Key]uint64{}}
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

// wrote records that engagement gen of member name wrote the row of key.
func (f *Feeder) wrote(name string, gen uint64, key Key) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.engagements[name] == gen {
		f.rows[key] = gen
	}
}

// forget drops the record of key's row (its deployment was deleted).
func (f *Feeder) forget(key Key) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.rows, key)
}

// writer is the engagement that last wrote the row of key.
func (f *Feeder) writer(key Key) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rows[key]
}

func (f *Feeder) current(name string, gen uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.engagements[name] == gen
}

// rowKind is a kind of object the feeder indexes.
type rowKind struct {
	// plural names the objects in logs.
	plural string
	// kind is the rows' Kind.
	kind string
	// object is an empty object of the kind, for its informer.
	object func() client.Object
	// row is the index row of an informer's object of member cluster, if
	// it is one of the kind.
	row func(cluster string, obj any) (Deployment, bool)
}

// rowKinds are the kinds the feeder indexes.
var rowKinds = []rowKind{
	{plural: "FlinkDeployments", kind: fleetv1.KindFlinkDeployment, object: func() client.Object { return &flinkv1beta1.FlinkDeployment{} },
		row: rowOf(FromFlinkDeployment)},
	{plural: "FlinkSessionJobs", kind: fleetv1.KindFlinkSessionJob, object: func() client.Object { return &flinkv1beta1.FlinkSessionJob{} },
		row: rowOf(FromFlinkSessionJob)},
}

// rowOf makes convert a rowKind.row: informer objects of another type are
// not rows.
func rowOf[T any](convert func(string, *T) Deployment) func(string, any) (Deployment, bool) {
	return func(cluster string, obj any) (Deployment, bool) {
		o, ok := obj.(*T)
		if !ok {
			return Deployment{}, false
		}
		return convert(cluster, o), true
	}
}

// feed indexes every kind of member name while engagement gen lasts, then
// drops the member's rows unless a newer engagement took over.
func (f *Feeder) feed(ctx context.Context, name string, gen uint64, cl cluster.Cluster) {
	var wg sync.WaitGroup
	for _, k := range rowKinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.watch(ctx, name, gen, cl, k)
		}()
	}
	wg.Wait()
	f.mu.Lock()
	last := f.engagements[name] == gen
	if last {
		delete(f.engagements, name)
		for k := range f.rows {
			if k.Cluster == name {
				delete(f.rows, k)
			}
		}
	}
	f.mu.Unlock()
	if last {
		f.index.deleteClusterDeployments(name, func(*Deployment) bool { return true })
	}
}

// watch keeps the rows of kind k of member name in step with its informer
// until ctx ends. The member may not serve the kind yet (crdinstall is
// installing the CRD, or the member is unreachable): it keeps trying.
func (f *Feeder) watch(ctx context.Context, name string, gen uint64, cl cluster.Cluster, k rowKind) {
	logger := log.FromContext(ctx).WithValues("cluster", name)
	var inf cache.Informer
	err := wait.PollUntilContextCancel(ctx, f.retry, true, func(ctx context.Context) (bool, error) {
		var err error
		inf, err = cl.GetCache().GetInformer(ctx, k.object(), cache.BlockUntilSynced(false))
		if err != nil {
			logger.V(1).Info("cannot watch "+k.plural+" yet; will retry", "error", err.Error())
		}
		return err == nil, nil
	})
	if err != nil {
		return // the engagement ended
	}
	upsert := func(obj any) {
		if d, ok := k.row(name, obj); ok && f.current(name, gen) {
			f.wrote(name, gen, KeyOf(&d))
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
			if d, ok := k.row(name, obj); ok && f.current(name, gen) {
				key := KeyOf(&d)
				f.forget(key)
				f.index.DeleteDeployment(key)
			}
		},
	})
	if err != nil {
		logger.Error(err, "cannot watch "+k.plural+" for the fleet index")
		return
	}
	go func() {
		if toolscache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
			// Rows of an earlier engagement that this one's list did not
			// bring back belong to deleted objects.
			f.index.deleteClusterDeployments(name, func(d *Deployment) bool { return d.Kind == k.kind && f.writer(KeyOf(d)) != gen })
		}
	}()
	<-ctx.Done()
	_ = inf.RemoveEventHandler(reg)
}

// FromFlinkSessionJob is the index row of a member's FlinkSessionJob.
func FromFlinkSessionJob(cluster string, job *flinkv1beta1.FlinkSessionJob) Deployment {
	d := Deployment{
		Kind:           fleetv1.KindFlinkSessionJob,
		Cluster:        cluster,
		Namespace:      job.Namespace,
		Name:           job.Name,
		SessionCluster: job.Spec.DeploymentName,
		LifecycleState: string(job.Status.LifecycleState),
		JobState:       string(job.Status.JobStatus.State),
	}
	withStatus(&d, job.Status.Error, job.Status.ReconciliationStatus.ReconciliationTimestamp)
	return d
}

// withStatus fills in d's error and reason from status.error, and its last
// reconcile from the reconciliation timestamp (epoch milliseconds, 0 for
// none).
func withStatus(d *Deployment, statusError string, reconciled int64) {
	if p := problem.Decode(statusError); !p.IsZero() {
		d.Error, d.Reason = p.Message, string(p.Reason)
	}
	if reconciled > 0 {
		t := time.UnixMilli(reconciled).UTC()
		d.LastReconcile = &t
	}
}

// FromFlinkDeployment is the index row of a member's FlinkDeployment.
func FromFlinkDeployment(cluster string, fd *flinkv1beta1.FlinkDeployment) Deployment {
	d := Deployment{
		Kind:           fleetv1.KindFlinkDeployment,
		Cluster:        cluster,
		Namespace:      fd.Namespace,
		Name:           fd.Name,
		LifecycleState: string(fd.Status.LifecycleState),
		JobState:       string(fd.Status.JobStatus.State),
		FlinkVersion:   string(fd.Spec.FlinkVersion),
		Mode:           string(fd.Spec.Mode),

		JobManagerStatus:    string(fd.Status.JobManagerDeploymentStatus),
		RunningFlinkVersion: fd.Status.ClusterInfo["flink-version"],
	}
	d.CPU, _ = strconv.ParseFloat(fd.Status.ClusterInfo["total-cpu"], 64)
	d.Memory, _ = strconv.ParseInt(fd.Status.ClusterInfo["total-memory"], 10, 64)
	withStatus(&d, fd.Status.Error, fd.Status.ReconciliationStatus.ReconciliationTimestamp)
	if d.Mode == "" {
		d.Mode = string(flinkv1beta1.ModeNative)
	}
	return d
}
