package hub

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/observability/jaegerquery"
	"github.com/flink-hub/flink-hub/internal/observability/tracecmd"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
)

func namespace(t *testing.T, ctx context.Context, cp *framework.ControlPlane, name string) {
	t.Helper()
	if err := cp.CreateNamespace(ctx, name); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "flink"}}
	if err := cp.Client.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

type placed struct {
	fd     *v1beta1.FlinkDeployment
	member *framework.ControlPlane
}

func stable(fd *v1beta1.FlinkDeployment) bool {
	st := fd.Status
	return st.JobManagerDeploymentStatus == v1beta1.JobManagerReady && st.LifecycleState == v1beta1.LifecycleStable &&
		(fd.Spec.Job == nil || st.JobStatus.State == v1beta1.JobRunning)
}

// TestExamplesAcrossMembersWithTwoReplicas applies every upstream example
// in both modes, spread over two members, with two hub replicas running as
// processes: all reach READY, RUNNING and STABLE; both replicas do work; the
// reconciles are traced in Jaeger; deletion removes everything.
func TestExamplesAcrossMembersWithTwoReplicas(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	fds := createExamplesAcrossMembers(t, ctx)
	waitAllStable(t, ctx, fds)

	// Both replicas hold shards.
	checkBothReplicasHoldShards(t, ctx)

	// Every deployment's reconciles are traced with its cluster and shard;
	// between them, both replicas did work.
	sample := checkReconcilesTraced(t, ctx, fds)

	// kubectl flinkhub trace prints such a trace from Jaeger.
	checkTraceCommand(t, ctx, sample)

	deleteAndCheckCleanedUp(t, ctx, fds)
	for _, r := range replicas {
		if done, err := r.Exited(); done && !killed[r.Name] {
			t.Errorf("%s exited during the test: %v (log %s)", r.Name, err, r.LogPath)
		}
	}
}

// createExamplesAcrossMembers creates every upstream example in both
// modes in namespace examples, spread over the members in turn.
func createExamplesAcrossMembers(t *testing.T, ctx context.Context) []placed {
	t.Helper()
	all, err := examples.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range fleet.Members {
		namespace(t, ctx, m, "examples")
	}
	var fds []placed
	i := 0
	for _, ex := range all {
		for _, mode := range []v1beta1.KubernetesDeploymentMode{v1beta1.ModeNative, v1beta1.ModeStandalone} {
			fd := ex.Typed.DeepCopy()
			fd.Namespace, fd.Name, fd.Spec.Mode = "examples", fd.Name+"-"+string(mode)[:3], mode
			member := fleet.Members[i%len(fleet.Members)]
			i++
			// The member's CRD is installed by the hub; retry until it is.
			if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
				err := member.Client.Create(ctx, fd.DeepCopy())
				return err == nil || apierrors.IsAlreadyExists(err), nil
			}); err != nil {
				t.Fatalf("create %s in %s: %v", fd.Name, member.Name, err)
			}
			fds = append(fds, placed{fd, member})
		}
	}
	return fds
}

// waitAllStable waits until every placed FlinkDeployment is stable, and
// fails with the status of those that are not.
func waitAllStable(t *testing.T, ctx context.Context, fds []placed) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for _, p := range fds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last v1beta1.FlinkDeployment
			err := framework.Eventually(ctx, 3*time.Minute, func(ctx context.Context) (bool, error) {
				if err := p.member.Client.Get(ctx, client.ObjectKeyFromObject(p.fd), &last); err != nil {
					return false, err
				}
				return stable(&last), nil
			})
			if err != nil {
				mu.Lock()
				failures = append(failures, fmt.Sprintf("%s/%s: %v; status %+v", p.member.Name, p.fd.Name, err, last.Status))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d did not become stable:\n%s", len(failures), len(fds), strings.Join(failures, "\n"))
	}
}

// checkBothReplicasHoldShards checks that at least two replicas hold shard
// Leases.
func checkBothReplicasHoldShards(t *testing.T, ctx context.Context) {
	t.Helper()
	var leases coordinationv1.LeaseList
	if err := fleet.Hub.Client.List(ctx, &leases, client.InNamespace(hubNamespace), client.MatchingLabels{shardlease.RoleLabel: shardlease.RoleShard}); err != nil {
		t.Fatal(err)
	}
	holders := map[string]int{}
	for _, l := range leases.Items {
		if l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "" {
			holders[*l.Spec.HolderIdentity]++
		}
	}
	if len(holders) < 2 {
		t.Errorf("shard holders %v: both replicas must own shards", holders)
	}
}

// checkReconcilesTraced checks that every placed FlinkDeployment has a
// reconcile trace with a Flink REST and a member API span, whose root names
// the shard, and that at least two replicas reconciled. It returns one
// such trace.
func checkReconcilesTraced(t *testing.T, ctx context.Context, fds []placed) jaegerquery.Trace {
	t.Helper()
	reconciledBy := map[string]bool{}
	var sample jaegerquery.Trace
	for _, p := range fds {
		var found jaegerquery.Trace
		err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
			traces, err := jaeger.Query.Find(ctx, jaegerquery.Query{Service: "flink-hub", Operation: "Reconcile FlinkDeployment",
				Tags: map[string]string{"flinkhub.cluster": p.member.Name, "flinkhub.name": p.fd.Name}, Limit: 20})
			for _, tr := range traces {
				if hasSpan(tr, "flink ") && hasSpan(tr, "PATCH flinkdeployments") {
					found = tr
					return true, nil
				}
			}
			return false, err
		})
		if err != nil {
			t.Fatalf("no trace of %s/%s with a Flink REST and a member API span: %v", p.member.Name, p.fd.Name, err)
		}
		root := rootSpan(found)
		if shard, _ := root.Tag("flinkhub.shard"); shard == "" {
			t.Errorf("root span of %s lacks the shard: %+v", p.fd.Name, root.Tags)
		}
		replica, _ := root.Tag("flinkhub.replica")
		reconciledBy[replica] = true
		sample = found
	}
	if len(reconciledBy) < 2 {
		t.Errorf("reconciled by %v: every replica must work", reconciledBy)
	}
	return sample
}

// checkTraceCommand checks that kubectl flinkhub trace prints the
// FlinkDeployment of sample's root span from Jaeger.
func checkTraceCommand(t *testing.T, ctx context.Context, sample jaegerquery.Trace) {
	t.Helper()
	root := rootSpan(sample)
	cluster, _ := root.Tag("flinkhub.cluster")
	ns, _ := root.Tag("flinkhub.namespace")
	name, _ := root.Tag("flinkhub.name")
	var out bytes.Buffer
	cmd := tracecmd.NewCommand()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{cluster + "/" + ns + "/" + name, "--jaeger-url", jaeger.QueryURL, "--limit", "3"})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatalf("trace command: %v", err)
	}
	if !strings.Contains(out.String(), "Reconcile FlinkDeployment  cluster="+cluster) {
		t.Errorf("trace output:\n%s", out.String())
	}
}

// deleteAndCheckCleanedUp deletes every placed FlinkDeployment, waits
// until all are gone and checks that no ConfigMap of the hub is left.
func deleteAndCheckCleanedUp(t *testing.T, ctx context.Context, fds []placed) {
	t.Helper()
	for _, p := range fds {
		if err := p.member.Client.Delete(ctx, p.fd); err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
	}
	for _, p := range fds {
		if err := framework.Eventually(ctx, 2*time.Minute, func(ctx context.Context) (bool, error) {
			err := p.member.Client.Get(ctx, client.ObjectKeyFromObject(p.fd), &v1beta1.FlinkDeployment{})
			return apierrors.IsNotFound(err), nil
		}); err != nil {
			t.Fatalf("%s/%s not deleted: %v", p.member.Name, p.fd.Name, err)
		}
	}
	for _, m := range fleet.Members {
		var cms corev1.ConfigMapList
		if err := m.Client.List(ctx, &cms, client.InNamespace("examples"), client.MatchingLabels{deployer.LabelManagedBy: deployer.ManagedByHub}); err != nil {
			t.Fatal(err)
		}
		if len(cms.Items) > 0 {
			t.Errorf("%s: %d ConfigMaps left after deletion", m.Name, len(cms.Items))
		}
	}
}

func hasSpan(t jaegerquery.Trace, prefix string) bool {
	for _, s := range t.Spans {
		if strings.HasPrefix(s.OperationName, prefix) {
			return true
		}
	}
	return false
}

func rootSpan(t jaegerquery.Trace) jaegerquery.Span {
	for _, s := range t.Spans {
		if s.ParentID() == "" {
			return s
		}
	}
	return jaegerquery.Span{}
}
