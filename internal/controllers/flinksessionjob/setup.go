package flinksessionjob

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcbuilder "sigs.k8s.io/multicluster-runtime/pkg/builder"
	mchandler "sigs.k8s.io/multicluster-runtime/pkg/handler"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/memberkind"
	"github.com/flink-hub/flink-hub/internal/sharding/mcgate"
	"github.com/flink-hub/flink-hub/internal/sharding/shardkey"
)

// SetupOptions wire the controller into a manager.
type SetupOptions = memberkind.SetupOptions

// kind is the controlled kind, sharded on each session job's own key.
var kind = memberkind.Kind{Name: "FlinkSessionJob", Object: &v1beta1.FlinkSessionJob{}, ShardKind: shardkey.KindSessionJob}

// RequestKey is the shard key of a FlinkSessionJob's request: its own, not
// its session cluster's.
func RequestKey(req mcreconcile.Request) string { return kind.KeyOf(req) }

// WatchedMemberKinds are the kinds SetupWithManager needs in every member
// (FlinkSessionJobs are optional: memberkind).
func WatchedMemberKinds() []client.Object {
	return []client.Object{&v1beta1.FlinkDeployment{}}
}

// SetupWithManager registers the FlinkSessionJob controller
// (memberkind.Setup); a session cluster whose JobManager becomes ready
// (or goes) brings its session jobs at once.
func (r *Reconciler) SetupWithManager(mgr mcmanager.Manager, o SetupOptions) error {
	return memberkind.Setup(mgr, kind, r, r.Options, o, func(b *mcbuilder.TypedBuilder[mcreconcile.Request]) *mcbuilder.TypedBuilder[mcreconcile.Request] {
		return b.Watches(&v1beta1.FlinkDeployment{}, jobsOfSessionCluster(o.Gate), mcbuilder.WithPredicates(jobManagerStatusChanged))
	})
}

// jobManagerStatusChanged passes creations, deletions and updates that
// change a FlinkDeployment's JobManager deployment status.
var jobManagerStatusChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		oldFD, ok1 := e.ObjectOld.(*v1beta1.FlinkDeployment)
		newFD, ok2 := e.ObjectNew.(*v1beta1.FlinkDeployment)
		return !ok1 || !ok2 || oldFD.Status.JobManagerDeploymentStatus != newFD.Status.JobManagerDeploymentStatus
	},
}

// jobsOfSessionCluster maps a session cluster to the session jobs of its
// namespace that name it, in the member's cache, those gate owns.
func jobsOfSessionCluster(gate mcgate.Owner) mchandler.TypedEventHandlerFunc[client.Object, mcreconcile.Request] {
	return func(name multicluster.ClusterName, cl cluster.Cluster) handler.TypedEventHandler[client.Object, mcreconcile.Request] {
		return handler.TypedEnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []mcreconcile.Request {
			fd, ok := obj.(*v1beta1.FlinkDeployment)
			if !ok || fd.Spec.Job != nil {
				return nil
			}
			var jobs v1beta1.FlinkSessionJobList
			if err := cl.GetClient().List(ctx, &jobs, client.InNamespace(fd.Namespace)); err != nil {
				return nil
			}
			var out []mcreconcile.Request
			for _, j := range jobs.Items {
				req := mcreconcile.Request{ClusterName: name, Request: reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&j)}}
				if j.Spec.DeploymentName == fd.Name && gate.Owns(RequestKey(req)) {
					out = append(out, req)
				}
			}
			return out
		})
	}
}
