package memberstatus

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
)

func TestReportedElsewhere(t *testing.T) {
	mc := func(name, version string, labels map[string]string) *hubv1alpha1.MemberCluster {
		return &hubv1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Status: hubv1alpha1.MemberClusterStatus{KubernetesVersion: version}}
	}
	ownsA := func(member string) bool { return member == "a" }
	for _, tc := range []struct {
		name     string
		owns     func(string) bool
		old, new *hubv1alpha1.MemberCluster
		want     bool
	}{
		{"another replica's status write", ownsA, mc("b", "v1.33", nil), mc("b", "v1.34", nil), true},
		{"this replica's own write", ownsA, mc("a", "v1.33", nil), mc("a", "v1.34", nil), false},
		{"no status change", ownsA, mc("b", "v1.33", nil), mc("b", "v1.33", map[string]string{"x": "y"}), false},
		{"one writer (no owner function)", nil, mc("b", "v1.33", nil), mc("b", "v1.34", nil), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := reportedElsewhere(tc.owns).Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	p := reportedElsewhere(ownsA)
	if p.Create(event.CreateEvent{Object: mc("b", "", nil)}) || p.Delete(event.DeleteEvent{Object: mc("b", "", nil)}) || p.Generic(event.GenericEvent{Object: mc("b", "", nil)}) {
		t.Error("passes creations, deletions or generic events (the generation predicate's work)")
	}
}
