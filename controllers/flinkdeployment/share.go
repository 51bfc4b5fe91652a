package flinkdeployment

import (
	"context"
	"math/rand/v2"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	"github.com/flink-hub/flink-hub/controllers/flinkdeployment/workershare"
)

// DefaultMemberWorkerShare is the share of the reconcile workers one member
// may hold at once when SetupOptions leaves it zero.
const DefaultMemberWorkerShare = 0.5

// DefaultShareRetry is how long a request of a member at its share waits
// before it is tried again, when SetupOptions leaves it zero; up to as much
// again is added at random, so that the waiting requests spread out.
const DefaultShareRetry = time.Second

// shared admits a request to inner only while its member holds fewer
// workers than its share; otherwise the request is requeued after about
// retry, without an error and without holding a worker meanwhile. A member
// whose apiserver blackholes traffic thus leaves the other workers to the
// other members.
func shared(shares *workershare.Shares, retry time.Duration, inner reconcile.TypedReconciler[mcreconcile.Request]) reconcile.TypedReconciler[mcreconcile.Request] {
	return reconcile.TypedFunc[mcreconcile.Request](func(ctx context.Context, req mcreconcile.Request) (reconcile.Result, error) {
		release, ok := shares.TryAcquire(req.ClusterName.String())
		if !ok {
			return reconcile.Result{RequeueAfter: retry + rand.N(retry+1)}, nil
		}
		defer release()
		return inner.Reconcile(ctx, req)
	})
}
