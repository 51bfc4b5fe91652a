package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
)

// tracker watches the FlinkDeployments of every member and records, per
// key, the first time each one matches the current goal.
type tracker struct {
	namespace string
	mu        sync.Mutex
	goal      func(*v1beta1.FlinkDeployment) bool
	objs      map[string]*v1beta1.FlinkDeployment
	matched   map[string]time.Time
	changed   chan struct{}
}

// startTracker watches the benchmark's FlinkDeployments (fdNamespace) on
// every member until ctx ends.
func startTracker(ctx context.Context, members []*framework.ControlPlane) (*tracker, error) {
	return startTrackerIn(ctx, members, fdNamespace)
}

// startTrackerIn watches the FlinkDeployments of namespace on every member
// until ctx ends.
func startTrackerIn(ctx context.Context, members []*framework.ControlPlane, namespace string) (*tracker, error) {
	t := &tracker{namespace: namespace, objs: map[string]*v1beta1.FlinkDeployment{}, matched: map[string]time.Time{}, changed: make(chan struct{}, 1),
		goal: func(*v1beta1.FlinkDeployment) bool { return false }}
	for _, m := range members {
		wc, err := client.NewWithWatch(rest.CopyConfig(m.Config), client.Options{Scheme: framework.Scheme})
		if err != nil {
			return nil, err
		}
		go t.watch(ctx, m.Name, wc)
	}
	return t, nil
}

// watch lists then watches one member, again after every watch end.
func (t *tracker) watch(ctx context.Context, member string, wc client.WithWatch) {
	for ctx.Err() == nil {
		var list v1beta1.FlinkDeploymentList
		if err := wc.List(ctx, &list, client.InNamespace(t.namespace)); err != nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		for i := range list.Items {
			t.observe(member, &list.Items[i])
		}
		w, err := wc.Watch(ctx, &v1beta1.FlinkDeploymentList{}, client.InNamespace(t.namespace),
			&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: list.ResourceVersion}})
		if err != nil {
			continue
		}
		for ev := range w.ResultChan() {
			if fd, ok := ev.Object.(*v1beta1.FlinkDeployment); ok && (ev.Type == watch.Added || ev.Type == watch.Modified) {
				t.observe(member, fd)
			}
		}
		w.Stop()
	}
}

func (t *tracker) observe(member string, fd *v1beta1.FlinkDeployment) {
	key := member + "/" + fd.Namespace + "/" + fd.Name
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.objs[key] = fd
	if _, ok := t.matched[key]; !ok && t.goal(fd) {
		t.matched[key] = now
		select {
		case t.changed <- struct{}{}:
		default:
		}
	}
}

// expect sets a new goal and forgets the old matches; objects already
// matching it count as matched now.
func (t *tracker) expect(goal func(*v1beta1.FlinkDeployment) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.goal, t.matched = goal, map[string]time.Time{}
	now := time.Now()
	for k, fd := range t.objs {
		if goal(fd) {
			t.matched[k] = now
		}
	}
}

// wait blocks until n keys match the goal and returns their match times.
func (t *tracker) wait(ctx context.Context, n int, timeout time.Duration) (map[string]time.Time, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		t.mu.Lock()
		got := len(t.matched)
		if got >= n {
			out := make(map[string]time.Time, got)
			for k, v := range t.matched {
				out[k] = v
			}
			t.mu.Unlock()
			return out, nil
		}
		t.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline.C:
			return nil, fmt.Errorf("only %d of %d FlinkDeployments reached the goal within %s: %s", got, n, timeout, t.sample())
		case <-t.changed:
		case <-tick.C:
		}
	}
}

// sample describes one object that does not match, for errors.
func (t *tracker) sample() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, fd := range t.objs {
		if _, ok := t.matched[k]; !ok {
			st := fd.Status
			return fmt.Sprintf("e.g. %s: generation %d, observed %d, lifecycle %q, reconciliation %q, JobManager %q, job %q, error %q, last reconciled spec %.300s",
				k, fd.Generation, st.ObservedGeneration, st.LifecycleState, st.ReconciliationStatus.State, st.JobManagerDeploymentStatus, st.JobStatus.State, st.Error,
				st.ReconciliationStatus.LastReconciledSpec)
		}
	}
	return "no objects seen"
}

// stable is the convergence goal: JobManager ready, lifecycle STABLE, job
// RUNNING, the current generation observed.
func stable(fd *v1beta1.FlinkDeployment) bool {
	st := fd.Status
	return st.JobManagerDeploymentStatus == v1beta1.JobManagerReady && st.LifecycleState == v1beta1.LifecycleStable &&
		st.JobStatus.State == v1beta1.JobRunning && st.ObservedGeneration == fd.Generation
}

// keys are the keys of every FlinkDeployment seen.
func (t *tracker) keys() map[string]bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]bool, len(t.objs))
	for k := range t.objs {
		out[k] = true
	}
	return out
}
