package flinkdeployment

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
)

// TestCanaryIsLeftAlone: a FlinkDeployment labelled
// flink.apache.org/canary: "true" (in any case) is upstream's probe of the
// operator's health, not a Flink cluster: a reconcile writes nothing to it
// or the member (no finalizer, no status, no deploy) and does not come
// back, whether or not its spec is valid. Any other label value is
// reconciled as usual (the finalizer is added).
func TestCanaryIsLeftAlone(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1beta1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	full := framework.ValidFlinkDeployment("team-a", "canary")
	for _, tc := range []struct {
		name   string
		fd     *v1beta1.FlinkDeployment
		label  string
		writes bool
	}{
		{"upstream's canary (no spec)", &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "canary"}}, "true", false},
		{"a canary with a full spec", full.DeepCopy(), "True", false},
		{"not a canary", full.DeepCopy(), "false", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.fd.Labels = map[string]string{v1beta1.LabelCanary: tc.label}
			writes := 0
			count := func(context.Context, client.WithWatch, client.Object, client.Patch, ...client.PatchOption) error {
				writes++
				return nil
			}
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(tc.fd).WithInterceptorFuncs(interceptor.Funcs{
				Patch: count,
				SubResourcePatch: func(context.Context, client.Client, string, client.Object, client.Patch, ...client.SubResourcePatchOption) error {
					writes++
					return nil
				},
				Create: func(context.Context, client.WithWatch, client.Object, ...client.CreateOption) error {
					writes++
					return nil
				},
			}).Build()
			r := &Reconciler{Clusters: oneCluster{clientCluster{c: c}}, Options: DefaultOptions()}
			res, err := r.Reconcile(context.Background(), mcreconcile.Request{ClusterName: "m", Request: reconcile.Request{NamespacedName: client.ObjectKeyFromObject(tc.fd)}})
			if !tc.writes && (err != nil || res != (reconcile.Result{}) || writes != 0) {
				t.Fatalf("result %+v, error %v, %d writes: want nothing done", res, err, writes)
			}
			if tc.writes && writes == 0 {
				t.Fatalf("result %+v, error %v: want the finalizer written", res, err)
			}
		})
	}
}
