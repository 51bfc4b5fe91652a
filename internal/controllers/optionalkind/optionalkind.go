// Package optionalkind is a multicluster source for a kind a member may not
// serve yet, or may not let the hub watch: its CRD is missing (installs
// turned off), or the rules `cluster add` granted are older than the kind.
// multicluster-runtime's Kind source waits for the kind's informer while
// the member is engaged, and fails the engagement when the kind is
// unknown, so one optional kind could keep the member's FlinkDeployments
// unmanaged. This source starts at once and watches the kind in the
// background, trying again every retry interval until the member serves
// it and the hub may list it; events of the kind then flow as from a Kind
// source. The member's cache (clusters' kindaccess gate) refuses the
// informer of a kind the hub's identity may not list in every watched
// namespace, instead of starting one that would never sync; the
// MemberCluster's KindsReadable condition names such kinds.
package optionalkind

import (
	"context"
	"reflect"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	crsource "sigs.k8s.io/controller-runtime/pkg/source"
	mchandler "sigs.k8s.io/multicluster-runtime/pkg/handler"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"
	mcsource "sigs.k8s.io/multicluster-runtime/pkg/source"
)

// Source watches obj's kind in every engaged member, once it can.
type Source struct {
	obj     client.Object
	handler mchandler.TypedEventHandlerFunc[client.Object, mcreconcile.Request]
	preds   []predicate.Predicate
	retry   time.Duration
}

var _ mcsource.TypedSource[client.Object, mcreconcile.Request] = &Source{}

// New returns a Source of obj's kind whose events go through preds to
// handler; a member that does not serve the kind is asked again every
// retry.
func New(obj client.Object, handler mchandler.TypedEventHandlerFunc[client.Object, mcreconcile.Request], retry time.Duration, preds ...predicate.Predicate) *Source {
	return &Source{obj: obj, handler: handler, preds: preds, retry: retry}
}

// ForCluster returns the member's source: its Start never blocks.
func (s *Source) ForCluster(name multicluster.ClusterName, cl cluster.Cluster) (crsource.TypedSource[mcreconcile.Request], bool, error) {
	return crsource.TypedFunc[mcreconcile.Request](func(ctx context.Context, q workqueue.TypedRateLimitingInterface[mcreconcile.Request]) error {
		go s.watch(ctx, name, cl, q)
		return nil
	}), true, nil
}

// watch adds the event handler to the member's informer of the kind as
// soon as there is one, and removes it when ctx (the engagement) ends.
func (s *Source) watch(ctx context.Context, name multicluster.ClusterName, cl cluster.Cluster, q workqueue.TypedRateLimitingInterface[mcreconcile.Request]) {
	logger := log.FromContext(ctx).WithValues("cluster", name, "kind", kindOf(s.obj))
	var inf cache.Informer
	last := ""
	err := wait.PollUntilContextCancel(ctx, s.retry, true, func(ctx context.Context) (bool, error) {
		var err error
		inf, err = cl.GetCache().GetInformer(ctx, s.obj, cache.BlockUntilSynced(false))
		switch {
		case err == nil:
		case err.Error() != last:
			last = err.Error()
			logger.Info("cannot watch the kind yet; will retry", "error", last)
		default:
			logger.V(1).Info("cannot watch the kind yet; will retry", "error", last)
		}
		return err == nil, nil
	})
	if err != nil {
		return // the engagement ended
	}
	h := s.handler(name, cl)
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(o any) {
			if obj, ok := o.(client.Object); ok && s.pass(func(p predicate.Predicate) bool { return p.Create(event.CreateEvent{Object: obj}) }) {
				h.Create(ctx, event.TypedCreateEvent[client.Object]{Object: obj}, q)
			}
		},
		UpdateFunc: func(oldO, newO any) {
			oldObj, ok1 := oldO.(client.Object)
			newObj, ok2 := newO.(client.Object)
			if ok1 && ok2 && s.pass(func(p predicate.Predicate) bool {
				return p.Update(event.UpdateEvent{ObjectOld: oldObj, ObjectNew: newObj})
			}) {
				h.Update(ctx, event.TypedUpdateEvent[client.Object]{ObjectOld: oldObj, ObjectNew: newObj}, q)
			}
		},
		DeleteFunc: func(o any) {
			if t, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
				o = t.Obj
			}
			if obj, ok := o.(client.Object); ok && s.pass(func(p predicate.Predicate) bool { return p.Delete(event.DeleteEvent{Object: obj}) }) {
				h.Delete(ctx, event.TypedDeleteEvent[client.Object]{Object: obj}, q)
			}
		},
	})
	if err != nil {
		logger.Error(err, "cannot watch the kind")
		return
	}
	<-ctx.Done()
	_ = inf.RemoveEventHandler(reg)
}

// pass reports whether every predicate lets the event through.
func (s *Source) pass(ok func(predicate.Predicate) bool) bool {
	for _, p := range s.preds {
		if !ok(p) {
			return false
		}
	}
	return true
}

// kindOf is the name of obj's Go type, its kind.
func kindOf(obj client.Object) string { return reflect.TypeOf(obj).Elem().Name() }
