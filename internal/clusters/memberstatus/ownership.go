package memberstatus

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
)

// reportedElsewhere passes an update of a MemberCluster's status when
// owns says another replica writes it: the replicas that do not own a
// member index what its owner reported, on the owner's writes. It passes
// nothing else, and nothing at all without owns (one writer: this one).
func reportedElsewhere(owns func(member string) bool) predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			oldMC, ok1 := e.ObjectOld.(*hubv1alpha1.MemberCluster)
			newMC, ok2 := e.ObjectNew.(*hubv1alpha1.MemberCluster)
			if !ok1 || !ok2 || owns == nil || owns(newMC.Name) {
				return false
			}
			return !equality.Semantic.DeepEqual(oldMC.Status, newMC.Status)
		},
	}
}

// ownershipGained is a request source: every time OnOwnershipGained calls
// it back, it enqueues the member Secrets this replica now owns (from the
// cache), whose probes then start at once. A call while a listing is
// pending adds nothing: that listing sees the new ownership too.
func (r *Reconciler) ownershipGained() source.Source {
	signal := make(chan struct{}, 1)
	r.OnOwnershipGained(func() {
		select {
		case signal <- struct{}{}:
		default:
		}
	})
	return source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-signal:
				}
				for r.enqueueOwned(ctx, q) != nil {
					// Listed again after a probe interval: a member
					// owned but never probed would be a silent stall.
					select {
					case <-ctx.Done():
						return
					case <-time.After(max(r.Interval, 100*time.Millisecond)):
					}
				}
			}
		}()
		return nil
	})
}

// enqueueOwned adds to q every member Secret of the hub namespace whose
// member this replica owns.
func (r *Reconciler) enqueueOwned(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	secrets, err := memberconfig.ListSecrets(ctx, r.Client, r.Namespace)
	if err != nil {
		log.FromContext(ctx).Error(err, "cannot list the member Secrets to probe the members this replica came to own; listing again after a probe interval")
		return err
	}
	for i := range secrets {
		if s := &secrets[i]; r.Owns(s.Name) {
			q.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(s)})
		}
	}
	return nil
}
