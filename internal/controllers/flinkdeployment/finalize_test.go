package flinkdeployment

import (
	"context"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
)

func TestBoundedList(t *testing.T) {
	for _, tc := range []struct {
		items []string
		want  string
	}{
		{nil, ""},
		{[]string{"a", "b"}, "a, b"},
		{[]string{"a", "b", "c", "d", "e"}, "a, b, c, d, e"},
		{[]string{"a", "b", "c", "d", "e", "f", "g"}, "a, b, c, d, e and 2 more"},
	} {
		if got := boundedList(tc.items); got != tc.want {
			t.Errorf("boundedList(%v) = %q, want %q", tc.items, got, tc.want)
		}
	}
}

// TestSavepointOnDeletionWithJobManagerGone: the status still says READY
// and RUNNING (it is not refreshed during a deletion), but the JobManager
// Deployment is gone: no savepoint is asked for, and the deletion goes on;
// with the JobManager there, the job is stopped with a savepoint first.
func TestSavepointOnDeletionWithJobManagerGone(t *testing.T) {
	spec := stepSpec(v1beta1.UpgradeModeSavepoint, `{"kubernetes.operator.job.savepoint-on-deletion":"true","state.savepoints.dir":"file:///sp"}`)
	for _, tc := range []struct {
		name      string
		jobRuns   bool
		wantGoOn  bool
		wantCalls []string
	}{
		{"JobManager gone", false, true, nil},
		{"JobManager there", true, false, []string{"StopWithSavepoint"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "fd", UID: "uid-1"}, Spec: *spec}
			runningJob(&fd.Status)
			objs := []client.Object{fd.DeepCopy()}
			if tc.jobRuns {
				objs = append(objs, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: deployer.JobManagerDeploymentName(fd)}})
			}
			c := fake.NewClientBuilder().WithScheme(stepScheme(t)).WithObjects(objs...).WithStatusSubresource(&v1beta1.FlinkDeployment{}).Build()
			if err := c.Get(context.Background(), client.ObjectKeyFromObject(fd), fd); err != nil {
				t.Fatal(err)
			}
			flink := &fakeFlink{}
			r := &Reconciler{JobManagers: func(string, *rest.Config, *v1beta1.FlinkDeployment) (flinkrest.Client, error) { return flink, nil }, Options: DefaultOptions()}
			s := &state{cluster: fakeMember{clientCluster: clientCluster{c: c}, events: events.NewFakeRecorder(10)}, clusterName: "m1", fd: fd, written: fd.DeepCopy()}
			goOn, err := r.savepointOnDeletion(context.Background(), s)
			if goOn != tc.wantGoOn || !slices.Equal(flink.calls, tc.wantCalls) {
				t.Errorf("go on %v (err %v), Flink calls %v; want %v, %v", goOn, err, flink.calls, tc.wantGoOn, tc.wantCalls)
			}
		})
	}
}
