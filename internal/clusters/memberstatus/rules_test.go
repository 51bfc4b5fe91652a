package memberstatus

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/internal/clusters/registration"
)

func TestRulesCondition(t *testing.T) {
	const want = "abc123"
	byClusterAdd := map[string]string{"app.kubernetes.io/managed-by": registration.FieldManager}
	for _, tc := range []struct {
		name        string
		labels      map[string]string
		annotations map[string]string
		status      metav1.ConditionStatus
		reason      string
		message     string
	}{
		{"current", byClusterAdd, map[string]string{registration.RulesRevisionAnnotation: want}, metav1.ConditionTrue, hubv1alpha1.ReasonRulesCurrent, want},
		{"other revision", byClusterAdd, map[string]string{registration.RulesRevisionAnnotation: "old"}, metav1.ConditionFalse, hubv1alpha1.ReasonRulesOutdated, "cluster add m1` again"},
		{"before revisions", byClusterAdd, nil, metav1.ConditionFalse, hubv1alpha1.ReasonRulesOutdated, "from before revisions were recorded"},
		{"written by hand", nil, nil, metav1.ConditionUnknown, hubv1alpha1.ReasonNotRegisteredByClusterAdd, "cluster add m1`"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Labels: tc.labels, Annotations: tc.annotations}}
			c := rulesCondition("m1", 3, s, want)
			if c.Status != tc.status || c.Reason != tc.reason || !strings.Contains(c.Message, tc.message) || c.ObservedGeneration != 3 {
				t.Errorf("got %+v, want %s %s containing %q", c, tc.status, tc.reason, tc.message)
			}
		})
	}
}
