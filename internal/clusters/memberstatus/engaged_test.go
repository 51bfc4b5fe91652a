package memberstatus

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
)

func TestEngagedCondition(t *testing.T) {
	for _, tc := range []struct {
		name    string
		engaged bool
		message string
		want    metav1.Condition
	}{
		{name: "engaged", engaged: true, message: "ignored",
			want: metav1.Condition{Type: hubv1alpha1.ConditionEngaged, Status: metav1.ConditionTrue, Reason: hubv1alpha1.ReasonEngaged,
				Message: "the hub watches the member's FlinkDeployments and FlinkSessionJobs", ObservedGeneration: 3}},
		{name: "failed", message: "its FlinkSessionJobs were not listed within 1m0s",
			want: metav1.Condition{Type: hubv1alpha1.ConditionEngaged, Status: metav1.ConditionFalse, Reason: hubv1alpha1.ReasonEngageFailed,
				Message: "its FlinkSessionJobs were not listed within 1m0s", ObservedGeneration: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := engagedCondition(tc.engaged, tc.message, 3); got != tc.want {
				t.Errorf("engagedCondition = %+v, want %+v", got, tc.want)
			}
		})
	}
}
