package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/deployer/native"
)

// template is the FlinkDeployment of the benchmark: the upstream
// basic-checkpoint-ha example (native mode, HA, checkpoints) in last-state
// upgrade mode.
func template() (*v1beta1.FlinkDeployment, error) {
	all, err := examples.Load()
	if err != nil {
		return nil, err
	}
	for _, ex := range all {
		if ex.Name == "basic-checkpoint-ha/basic-checkpoint-ha-example" {
			fd := ex.Typed.DeepCopy()
			fd.Namespace = fdNamespace
			fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeLastState
			return fd, nil
		}
	}
	return nil, fmt.Errorf("example basic-checkpoint-ha not found")
}

// placement is the i-th FlinkDeployment of a fleet: its member and name.
func placement(i, members int) (member int, name string) {
	return i % members, fmt.Sprintf("fd-%05d", i)
}

// fleetKey is "member/namespace/name" of createFleet's i-th
// FlinkDeployment in namespace over the members names.
func fleetKey(names []string, namespace string, i int) string {
	m, name := placement(i, len(names))
	return names[m] + "/" + namespace + "/" + name
}

// forEach runs fn for i in [0, n) with workers goroutines per member and
// returns the first error; after an error the remaining i are skipped.
func forEach(ctx context.Context, n, members, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range members * workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(ctx, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
				}
			}
		}()
	}
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	return firstErr
}

// createFleet creates n FlinkDeployments in namespace, spread over the
// members, and returns each one's creation time by key
// (member/namespace/name).
func createFleet(ctx context.Context, members []client.Client, names []string, namespace string, n int) (map[string]time.Time, error) {
	tmpl, err := template()
	if err != nil {
		return nil, err
	}
	tmpl.Namespace = namespace
	var mu sync.Mutex
	created := make(map[string]time.Time, n)
	err = forEach(ctx, n, len(members), 8, func(ctx context.Context, i int) error {
		m, name := placement(i, len(members))
		fd := tmpl.DeepCopy()
		fd.Name = name
		if err := members[m].Create(ctx, fd); err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
		mu.Lock()
		created[fleetKey(names, namespace, i)] = time.Now()
		mu.Unlock()
		return nil
	})
	return created, err
}

// floorStatusWrites are the status patches the floor writes per
// FlinkDeployment: DEPLOYED then STABLE, the least a reconciler can write.
var floorStatusWrites = []string{
	`{"status":{"lifecycleState":"DEPLOYED","jobManagerDeploymentStatus":"DEPLOYING"}}`,
	`{"status":{"lifecycleState":"STABLE","jobManagerDeploymentStatus":"READY","jobStatus":{"state":"RUNNING"}}}`,
}

// floor writes, with plain clients, what the hub writes for n
// FlinkDeployments: the FlinkDeployment, the objects of the native
// deployer's Resources, and the status patches. It returns the writes.
func floor(ctx context.Context, members []client.Client, n int) (int, error) {
	tmpl, err := template()
	if err != nil {
		return 0, err
	}
	var mu sync.Mutex
	writes := 0
	d := native.New()
	err = forEach(ctx, n, len(members), 8, func(ctx context.Context, i int) error {
		m, name := placement(i, len(members))
		c := members[m]
		fd := tmpl.DeepCopy()
		fd.Name = name
		if err := c.Create(ctx, fd); err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
		objs, err := d.Resources(fd, deployer.Inputs{})
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := c.Create(ctx, o); err != nil {
				return fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
			}
		}
		for _, patch := range floorStatusWrites {
			if err := c.Status().Patch(ctx, fd, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
				return fmt.Errorf("status of %s: %w", name, err)
			}
		}
		mu.Lock()
		writes += 1 + len(objs) + len(floorStatusWrites)
		mu.Unlock()
		return nil
	})
	return writes, err
}

// jobManagersPoll is how often jobManagersAvailable lists; lists come from
// the apiservers' watch caches, and a shorter period would load the
// apiservers it measures.
const jobManagersPoll = 250 * time.Millisecond

// jobManagersAvailable waits until n JobManager Deployments of the fleet
// namespace report an available replica, as the simulated kubelets and
// Deployment controller make them once a JobManager serves.
func jobManagersAvailable(ctx context.Context, members []client.Client, n int, timeout time.Duration) error {
	return framework.EventuallyEvery(ctx, timeout, jobManagersPoll, func(ctx context.Context) (bool, error) {
		available := 0
		for _, c := range members {
			var list appsv1.DeploymentList
			if err := c.List(ctx, &list, client.InNamespace(fdNamespace), client.MatchingLabels{deployer.LabelComponent: deployer.ComponentJobManager},
				&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: "0"}}); err != nil {
				return false, err
			}
			for i := range list.Items {
				if list.Items[i].Status.AvailableReplicas > 0 {
					available++
				}
			}
		}
		if available < n {
			return false, fmt.Errorf("%d of %d JobManager Deployments available", available, n)
		}
		return true, nil
	})
}

// warmUp creates n FlinkDeployments in warmupNamespace and waits until all
// are stable, so that what a replica allocates once (discovery and REST
// mappings per member, type caches, connection buffers) is in place before
// the heap is measured per FlinkDeployment.
func warmUp(ctx context.Context, members []client.Client, names []string, n int, timeout time.Duration) error {
	if _, err := createFleet(ctx, members, names, warmupNamespace, n); err != nil {
		return err
	}
	return framework.Eventually(ctx, timeout, func(ctx context.Context) (bool, error) {
		done := 0
		for _, c := range members {
			var list v1beta1.FlinkDeploymentList
			if err := c.List(ctx, &list, client.InNamespace(warmupNamespace)); err != nil {
				return false, err
			}
			for i := range list.Items {
				if stable(&list.Items[i]) {
					done++
				}
			}
		}
		return done == n, nil
	})
}
