package memberstatus

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
)

// writeTokenExpiry sets status.credentialsExpireAt and the TokenExpiring
// condition from the exp claim of cfg's bearer token, and removes both
// when there is no config or no expiry to read.
func (r *Reconciler) writeTokenExpiry(mc *hubv1alpha1.MemberCluster, cfg *rest.Config, now time.Time) {
	st := &mc.Status
	var exp time.Time
	ok := cfg != nil
	if ok {
		exp, ok = memberconfig.TokenExpiry(cfg)
	}
	if !ok {
		st.CredentialsExpireAt = nil
		meta.RemoveStatusCondition(&st.Conditions, hubv1alpha1.ConditionTokenExpiring)
		return
	}
	st.CredentialsExpireAt = &metav1.Time{Time: exp}
	window := r.TokenWarning
	if window <= 0 {
		window = DefaultTokenWarning
	}
	rotate := fmt.Sprintf("run `kubectl flinkhub cluster add <member-context> --name %s` again to rotate it", mc.Name)
	at := exp.Format(time.RFC3339)
	cond := metav1.Condition{Type: hubv1alpha1.ConditionTokenExpiring, ObservedGeneration: mc.Generation}
	switch {
	case !now.Before(exp):
		cond.Status, cond.Reason = metav1.ConditionTrue, hubv1alpha1.ReasonTokenExpired
		cond.Message = fmt.Sprintf("the hub's token for this member expired at %s; %s", at, rotate)
	case exp.Sub(now) <= window:
		cond.Status, cond.Reason = metav1.ConditionTrue, hubv1alpha1.ReasonTokenExpiresSoon
		cond.Message = fmt.Sprintf("the hub's token for this member expires at %s; %s", at, rotate)
	default:
		cond.Status, cond.Reason = metav1.ConditionFalse, hubv1alpha1.ReasonTokenValid
		cond.Message = fmt.Sprintf("the hub's token for this member expires at %s", at)
	}
	meta.SetStatusCondition(&st.Conditions, cond)
}
