package memberstatus

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/internal/clusters/claim"
)

// setClaimConditions sets the Claimed condition from the member's claim;
// a duplicate registration is also not Ready, with the claim's reason, so
// that it shows wherever members are listed.
func setClaimConditions(mc *hubv1alpha1.MemberCluster, out claim.Outcome) {
	meta.SetStatusCondition(&mc.Status.Conditions, claimCondition(mc.Generation, out))
	if out.Reason == claim.ReasonDuplicate {
		meta.SetStatusCondition(&mc.Status.Conditions, metav1.Condition{
			Type: hubv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: hubv1alpha1.ReasonDuplicate, Message: out.Message, ObservedGeneration: mc.Generation,
		})
	}
}

// claimCondition is the Claimed condition of a claim outcome: True when
// held, False when another registration holds it, Unknown otherwise.
func claimCondition(generation int64, out claim.Outcome) metav1.Condition {
	status := metav1.ConditionUnknown
	switch out.Reason {
	case claim.ReasonHeld:
		status = metav1.ConditionTrue
	case claim.ReasonDuplicate:
		status = metav1.ConditionFalse
	}
	return metav1.Condition{Type: hubv1alpha1.ConditionClaimed, Status: status, Reason: out.Reason, Message: out.Message, ObservedGeneration: generation}
}
