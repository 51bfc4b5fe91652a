package main

import (
	"context"
	"sync"
	"time"

	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// releases records, from a watch of the fence Leases, when each of some
// shards left a replica: the first event after the watch began whose
// fence names another holder, or none. It times a handoff from the
// release itself, whatever the replica did before (with the successor
// handshake it works on until its successors are ready).
type releases struct {
	mu   sync.Mutex
	at   map[int]time.Time
	stop context.CancelFunc
	done chan struct{}
}

// watchReleases starts watching the fence Leases in ns for the release of
// shards by holder; it returns once the watch is open.
func watchReleases(ctx context.Context, cfg *rest.Config, ns, holder string, shards map[int]bool) (*releases, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	sel := metav1.ListOptions{LabelSelector: shardlease.RoleLabel + "=" + shardlease.RoleShard}
	list, err := cs.CoordinationV1().Leases(ns).List(ctx, sel)
	if err != nil {
		return nil, err
	}
	sel.ResourceVersion = list.ResourceVersion
	wctx, stop := context.WithCancel(ctx)
	w, err := cs.CoordinationV1().Leases(ns).Watch(wctx, sel)
	if err != nil {
		stop()
		return nil, err
	}
	r := &releases{at: map[int]time.Time{}, stop: stop, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		defer w.Stop()
		for ev := range w.ResultChan() {
			l, ok := ev.Object.(*coordinationv1.Lease)
			if !ok {
				continue
			}
			k, ok := shardlease.ParseShardLeaseName(l.Name)
			if !ok || !shards[k] || shardlease.Holder(l) == holder {
				continue
			}
			r.mu.Lock()
			if _, seen := r.at[k]; !seen {
				r.at[k] = time.Now()
			}
			r.mu.Unlock()
		}
	}()
	return r, nil
}

// close ends the watch and returns when each shard was seen released.
func (r *releases) close() map[int]time.Time {
	r.stop()
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.at
}
