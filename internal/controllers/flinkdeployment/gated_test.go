package flinkdeployment

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	"github.com/flink-hub/flink-hub/internal/sharding/handoff"
)

// firstOnce is a Gate that owns every key and, like the elector, marks
// the admissions of each as the first since its shard was acquired until
// a marked reconcile of it succeeded. It records what done was told.
type firstOnce struct {
	mu    sync.Mutex
	begun map[string]bool
	ended []error
}

func (g *firstOnce) Owns(string) bool { return true }
func (g *firstOnce) Begin(ctx context.Context, key string) (context.Context, func(error), bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	first := !g.begun[key]
	if first {
		ctx = handoff.WithFirst(ctx)
	}
	return ctx, func(err error) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.ended = append(g.ended, err)
		if first && err == nil {
			if g.begun == nil {
				g.begun = map[string]bool{}
			}
			g.begun[key] = true
		}
	}, true
}

// TestGatedTellsTheGateTheReconcileError: the gate's done hears the
// reconcile's error, and a panic as an error, so that a failed first
// reconcile after a takeover (its live read timed out) leaves the retry
// marked first; only a success ends the mark.
func TestGatedTellsTheGateTheReconcileError(t *testing.T) {
	failing := errors.New("live read timed out")
	var outcome error
	var marks []bool
	inner := reconcile.TypedFunc[mcreconcile.Request](func(ctx context.Context, _ mcreconcile.Request) (reconcile.Result, error) {
		marks = append(marks, handoff.First(ctx))
		if outcome == errPanicked {
			panic("boom")
		}
		return reconcile.Result{}, outcome
	})
	g := &firstOnce{}
	gated := GatedBy(g, requestKey, inner)
	req := mcreconcile.Request{ClusterName: "member-1", Request: reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "apps", Name: "fd"}}}
	for _, outcome = range []error{failing, errPanicked, nil, nil} {
		func() {
			defer func() { _ = recover() }()
			_, _ = gated.Reconcile(context.Background(), req)
		}()
	}
	if want := []error{failing, errPanicked, nil, nil}; !slices.Equal(g.ended, want) {
		t.Errorf("done was told %v, want %v", g.ended, want)
	}
	if want := []bool{true, true, true, false}; !slices.Equal(marks, want) {
		t.Errorf("marked first %v, want %v: first until one succeeded", marks, want)
	}
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
			gated := GatedBy(&firstOnce{}, requestKey, inner)
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

// TestTurnedAwayRequestKeepsTheTakeoverRead: a request that its member's
// worker share turns away does not use up the first admission after a
// takeover; the reconcile that runs later is the one marked first (and so
// reads the FlinkDeployment live).
func TestTurnedAwayRequestKeepsTheTakeoverRead(t *testing.T) {
	req := func(name string) mcreconcile.Request {
		return mcreconcile.Request{ClusterName: "member-1", Request: reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "apps", Name: name}}}
	}
	var mu sync.Mutex
	first := map[string]bool{}
	running, release := make(chan struct{}), make(chan struct{})
	inner := reconcile.TypedFunc[mcreconcile.Request](func(ctx context.Context, r mcreconcile.Request) (reconcile.Result, error) {
		mu.Lock()
		first[r.Name] = handoff.First(ctx)
		mu.Unlock()
		if r.Name == "busy" {
			close(running)
			<-release
		}
		return reconcile.Result{}, nil
	})
	// 2 workers, half each: one reconcile of member-1 at a time.
	outer, _, err := SharedThenGated(&firstOnce{}, requestKey, 2, 0.5, inner, nil)
	if err != nil {
		t.Fatal(err)
	}
	busyDone := make(chan struct{})
	go func() {
		defer close(busyDone)
		_, _ = outer.Reconcile(context.Background(), req("busy"))
	}()
	<-running
	if _, err := outer.Reconcile(context.Background(), req("waiting")); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	_, ran := first["waiting"]
	mu.Unlock()
	if ran {
		t.Fatal("the second reconcile of member-1 ran beside the first: the worker share did not turn it away")
	}
	close(release)
	<-busyDone
	if _, err := outer.Reconcile(context.Background(), req("waiting")); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !first["waiting"] {
		t.Fatal("the reconcile that ran after the turn-away was not marked first since the takeover: it would read the cache, not the apiserver")
	}
}
