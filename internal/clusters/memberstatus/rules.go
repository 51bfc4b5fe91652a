package memberstatus

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/internal/clusters/registration"
)

// setRulesCondition sets RulesCurrent from the rules revision `cluster
// add` recorded on the member's Secret.
func setRulesCondition(mc *hubv1alpha1.MemberCluster, secret *corev1.Secret) {
	meta.SetStatusCondition(&mc.Status.Conditions, rulesCondition(mc.Name, mc.Generation, secret, registration.RulesRevision()))
}

// rulesCondition compares the Secret's rules revision with want.
func rulesCondition(member string, generation int64, secret *corev1.Secret, want string) metav1.Condition {
	c := metav1.Condition{Type: hubv1alpha1.ConditionRulesCurrent, ObservedGeneration: generation}
	got, recorded := secret.Annotations[registration.RulesRevisionAnnotation]
	switch {
	case recorded && got == want:
		c.Status, c.Reason = metav1.ConditionTrue, hubv1alpha1.ReasonRulesCurrent
		c.Message = "the hub's identity in the member has the rules this hub needs (revision " + want + ")"
	case recorded || secret.Labels["app.kubernetes.io/managed-by"] == registration.FieldManager:
		if !recorded {
			got = "from before revisions were recorded"
		}
		c.Status, c.Reason = metav1.ConditionFalse, hubv1alpha1.ReasonRulesOutdated
		c.Message = fmt.Sprintf("the hub's identity in the member has rules of revision %s, this hub needs revision %s: run `kubectl flinkhub cluster add %s` again, it upgrades them in place", got, want, member)
	default:
		c.Status, c.Reason = metav1.ConditionUnknown, hubv1alpha1.ReasonNotRegisteredByClusterAdd
		c.Message = fmt.Sprintf("the Secret was not written by `kubectl flinkhub cluster add`: the hub cannot tell whether its identity in the member has the rules it needs; register with `kubectl flinkhub cluster add %s`", member)
	}
	return c
}
