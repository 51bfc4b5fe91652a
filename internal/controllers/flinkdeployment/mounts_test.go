package flinkdeployment

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// readerCluster is a member whose only part in use is its live reader;
// every other method panics (embedded nil).
type readerCluster struct {
	cluster.Cluster
	r client.Reader
}

func (c readerCluster) GetAPIReader() client.Reader { return c.r }

// podWith is a JobManager pod with the given condition statuses.
func podWith(conds map[corev1.PodConditionType]corev1.ConditionStatus) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "jm-0", UID: "pod-uid"}}
	for t, s := range conds {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: t, Status: s})
	}
	return p
}

func mountEvent(msg string, last time.Time) corev1.Event {
	return corev1.Event{Reason: ReasonFailedMount, Message: msg, InvolvedObject: corev1.ObjectReference{UID: "pod-uid"}, LastTimestamp: metav1.NewTime(last)}
}

// TestMountFailure: a JobManager pod that waits for its volumes (upstream's
// rule, Initialized standing in for PodReadyToStartContainers before
// Kubernetes 1.29) is failing for the newest FailedMount event about it,
// its message bounded and on one line; a started pod's events are not
// read; a member that refuses the list says nothing, logged once.
func TestMountFailure(t *testing.T) {
	f, tr := corev1.ConditionFalse, corev1.ConditionTrue
	now := time.Now()
	missing := `MountVolume.SetUp failed for volume "creds" : secret "creds" not found`
	cases := []struct {
		name   string
		pod    *corev1.Pod
		events []corev1.Event
		err    error
		want   string
		lists  int
	}{
		{"waiting for volumes", podWith(map[corev1.PodConditionType]corev1.ConditionStatus{corev1.PodReadyToStartContainers: f, corev1.PodInitialized: tr, corev1.PodReady: f}),
			[]corev1.Event{mountEvent("older", now.Add(-time.Minute)), mountEvent(missing, now)}, nil, missing, 1},
		{"before Kubernetes 1.29", podWith(map[corev1.PodConditionType]corev1.ConditionStatus{corev1.PodInitialized: f, corev1.PodReady: f}),
			[]corev1.Event{mountEvent(missing, now)}, nil, missing, 1},
		{"initialized, sandbox ready", podWith(map[corev1.PodConditionType]corev1.ConditionStatus{corev1.PodReadyToStartContainers: tr, corev1.PodInitialized: f, corev1.PodReady: f}),
			[]corev1.Event{mountEvent(missing, now)}, nil, "", 0},
		{"no conditions yet", podWith(nil), []corev1.Event{mountEvent(missing, now)}, nil, "", 0},
		{"no FailedMount", podWith(map[corev1.PodConditionType]corev1.ConditionStatus{corev1.PodReadyToStartContainers: f, corev1.PodReady: f}), nil, nil, "", 1},
		{"hostile message", podWith(map[corev1.PodConditionType]corev1.ConditionStatus{corev1.PodReadyToStartContainers: f, corev1.PodReady: f}),
			[]corev1.Event{mountEvent("line\n"+strings.Repeat("é", 2000), now)}, nil, "line " + strings.Repeat("é", 508) + "...", 1},
		{"refused", podWith(map[corev1.PodConditionType]corev1.ConditionStatus{corev1.PodReadyToStartContainers: f, corev1.PodReady: f}),
			nil, apierrors.NewForbidden(schema.GroupResource{Resource: "events"}, "", nil), "", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lists := 0
			c := fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{List: func(_ context.Context, _ client.WithWatch, list client.ObjectList, _ ...client.ListOption) error {
				lists++
				list.(*corev1.EventList).Items = tc.events
				return tc.err
			}}).Build()
			var logged []string
			ctx := log.IntoContext(context.Background(), funcr.New(func(_, args string) { logged = append(logged, args) }, funcr.Options{}))
			r := &Reconciler{}
			s := &state{cluster: readerCluster{r: c}, clusterName: "m"}
			for range 2 {
				if got := r.mountFailure(ctx, s, tc.pod); got != tc.want {
					t.Fatalf("mountFailure = %q, want %q", got, tc.want)
				}
			}
			if lists != 2*tc.lists {
				t.Errorf("%d event lists in two looks, want %d", lists, 2*tc.lists)
			}
			if tc.err != nil && (len(logged) != 1 || !strings.Contains(logged[0], "refuses to list events")) {
				t.Errorf("a refusal is logged once, got %q", logged)
			}
		})
	}
}
