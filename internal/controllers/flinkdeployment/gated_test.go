package flinkdeployment

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	"github.com/flink-hub/flink-hub/internal/sharding/handoff"
)

// firstOnce is a Gate that owns every key and marks the first admission
// of each as the first since its shard was acquired.
type firstOnce map[string]bool

func (g firstOnce) Owns(string) bool { return true }
func (g firstOnce) Begin(ctx context.Context, key string) (context.Context, func(), bool) {
	if !g[key] {
		g[key] = true
		ctx = handoff.WithFirst(ctx)
	}
	return ctx, func() {}, true
}

// TestGatedPutsTakenOverKeysBackAtDefaultPriority: the first reconcile of
// a key after its shard moved requeues it at the default priority (it
// was enqueued ahead of other work for that reconcile only); later
// reconciles, and a priority the reconciler chose, are left alone.
func TestGatedPutsTakenOverKeysBackAtDefaultPriority(t *testing.T) {
	chosen := 5
	cases := []struct {
		name  string
		inner reconcile.Result
		want  []*int // per reconcile: first, second
	}{
		{"requeue after", reconcile.Result{RequeueAfter: 1}, []*int{ptr.To(defaultPriority), nil}},
		{"priority chosen by the reconciler", reconcile.Result{Priority: &chosen}, []*int{&chosen, &chosen}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inner := reconcile.TypedFunc[mcreconcile.Request](func(context.Context, mcreconcile.Request) (reconcile.Result, error) {
				return tc.inner, nil
			})
			gated := Gated(firstOnce{}, inner)
			req := mcreconcile.Request{ClusterName: "member-1", Request: reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "apps", Name: "fd"}}}
			for i, want := range tc.want {
				res, err := gated.Reconcile(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				if (res.Priority == nil) != (want == nil) || (want != nil && *res.Priority != *want) {
					t.Errorf("reconcile %d: priority %v, want %v", i+1, deref(res.Priority), deref(want))
				}
			}
		})
	}
}

func deref(p *int) any {
	if p == nil {
		return "unset"
	}
	return *p
}
