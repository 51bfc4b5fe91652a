package flinkdeployment

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
)

// clientCluster is a member whose only parts in use are its client and an
// event recorder; every other method panics (embedded nil).
type clientCluster struct {
	cluster.Cluster
	c client.Client
}

func (c clientCluster) GetClient() client.Client { return c.c }

// GetEventRecorder drops the events.
func (c clientCluster) GetEventRecorder(string) events.EventRecorder {
	return events.NewFakeRecorder(100)
}

type oneCluster struct{ cl cluster.Cluster }

func (o oneCluster) GetCluster(context.Context, multicluster.ClusterName) (cluster.Cluster, error) {
	return o.cl, nil
}

// hang waits for the request's context, as a call to a member whose
// apiserver blackholes traffic does.
func hang(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestReconcileDeadline runs reconciles whose member calls hang at one
// step: each fails once its deadline passes, with an error naming the
// deadline and the step, and is retried with backoff.
func TestReconcileDeadline(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1beta1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	fd := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "fd"}}
	cases := []struct {
		name  string
		funcs interceptor.Funcs
		want  string // "" when the reconcile must succeed
	}{
		{"get hangs", interceptor.Funcs{Get: func(ctx context.Context, _ client.WithWatch, _ client.ObjectKey, _ client.Object, _ ...client.GetOption) error {
			return hang(ctx)
		}}, "reconcile deadline of 200ms exceeded while reading the FlinkDeployment: context deadline exceeded"},
		{"finalizer patch hangs", interceptor.Funcs{Patch: func(ctx context.Context, _ client.WithWatch, _ client.Object, _ client.Patch, _ ...client.PatchOption) error {
			return hang(ctx)
		}}, "reconcile deadline of 200ms exceeded while adding the finalizer: add finalizer: context deadline exceeded"},
		{"patch fails at once", interceptor.Funcs{Patch: func(context.Context, client.WithWatch, client.Object, client.Patch, ...client.PatchOption) error {
			return errors.New("refused")
		}}, "add finalizer: refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(fd.DeepCopy()).WithInterceptorFuncs(tc.funcs).Build()
			opts := DefaultOptions()
			opts.ReconcileTimeout = 200 * time.Millisecond
			r := &Reconciler{Clusters: oneCluster{clientCluster{c: c}}, Options: opts}
			res, err := r.Reconcile(context.Background(), mcreconcile.Request{ClusterName: "m", Request: reconcile.Request{NamespacedName: client.ObjectKeyFromObject(fd)}})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if res != (reconcile.Result{}) {
				t.Errorf("result %+v: a failed reconcile is retried with backoff", res)
			}
			if strings.HasPrefix(tc.want, "reconcile deadline") && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%v does not wrap context.DeadlineExceeded", err)
			}
		})
	}
}

// TestResultForDeadline: a reconcile cut short by its deadline is an
// error, whatever error it wraps.
func TestResultForDeadline(t *testing.T) {
	for _, inner := range []error{
		errors.New("plain"),
		requeue.Waiting(errors.New("JobManager not reachable"), time.Second),
		requeue.Stalling(errors.New("invalid")),
	} {
		err := &requeue.DeadlineError{Limit: time.Minute, Step: "observing", Err: inner}
		res, got := requeue.Result(err, time.Second, time.Minute)
		if got != err || res != (reconcile.Result{}) {
			t.Errorf("resultFor(deadline wrapping %v) = %+v, %v; want the error and no requeue delay", inner, res, got)
		}
	}
}
