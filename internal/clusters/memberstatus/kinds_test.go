package memberstatus

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/internal/clusters/kindaccess"
)

// TestKindsCondition: KindsReadable names every kind the hub may not read,
// with reason Forbidden as soon as one is refused by the rules.
func TestKindsCondition(t *testing.T) {
	refused := &kindaccess.Unreadable{Member: "m1", Kind: "FlinkStateSnapshot", Forbidden: true, Namespaces: []string{"b"}}
	missing := &kindaccess.Unreadable{Member: "m1", Kind: "FlinkSessionJob"}
	cases := []struct {
		name   string
		kinds  []kindaccess.Status
		status metav1.ConditionStatus
		reason string
		want   []string
	}{
		{"all readable", []kindaccess.Status{{Kind: "FlinkSessionJob"}, {Kind: "FlinkStateSnapshot"}}, metav1.ConditionTrue, hubv1alpha1.ReasonKindsReadable,
			[]string{"FlinkSessionJobs and FlinkStateSnapshots"}},
		{"one refused", []kindaccess.Status{{Kind: "FlinkSessionJob"}, {Kind: "FlinkStateSnapshot", Unreadable: refused}}, metav1.ConditionFalse, hubv1alpha1.ReasonForbidden,
			[]string{"FlinkStateSnapshots are not readable", "in namespace b", "cluster add"}},
		{"one not served", []kindaccess.Status{{Kind: "FlinkSessionJob", Unreadable: missing}, {Kind: "FlinkStateSnapshot"}}, metav1.ConditionFalse, hubv1alpha1.ReasonKindsNotServed,
			[]string{"does not serve FlinkSessionJobs"}},
		{"refused and not served", []kindaccess.Status{{Kind: "FlinkSessionJob", Unreadable: missing}, {Kind: "FlinkStateSnapshot", Unreadable: refused}}, metav1.ConditionFalse, hubv1alpha1.ReasonForbidden,
			[]string{"does not serve FlinkSessionJobs", "FlinkStateSnapshots are not readable"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := kindsCondition(tc.kinds, 3)
			if c.Type != hubv1alpha1.ConditionKindsReadable || c.Status != tc.status || c.Reason != tc.reason || c.ObservedGeneration != 3 {
				t.Errorf("condition %+v, want %s/%s", c, tc.status, tc.reason)
			}
			for _, w := range tc.want {
				if !strings.Contains(c.Message, w) {
					t.Errorf("message %q lacks %q", c.Message, w)
				}
			}
		})
	}
}
