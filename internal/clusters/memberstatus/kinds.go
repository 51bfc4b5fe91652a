package memberstatus

import (
	"context"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/internal/boundedtext"
	"github.com/flink-hub/flink-hub/internal/clusters/kindaccess"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// KindAccess says whether the hub may read each optional kind, and each
// kind whose informer the member refused, in a member this replica
// engaged (clusters.Provider.Kinds).
type KindAccess interface {
	Kinds(ctx context.Context, member string) (kinds []kindaccess.Status, engaged bool, err error)
}

// kindsTimeout bounds the check of the kinds, which asks the member about
// those it may not read or whose informers it refused.
const kindsTimeout = 5 * time.Second

// writeKindsReadable sets KindsReadable from this replica's engagement of
// the member: dropped while it is not engaged, left as it was when the
// member did not answer (Ready says so).
func (r *Reconciler) writeKindsReadable(ctx context.Context, mc *hubv1alpha1.MemberCluster) {
	if r.Kinds == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, kindsTimeout)
	defer cancel()
	kinds, engaged, err := r.Kinds.Kinds(ctx, mc.Name)
	switch {
	case !engaged:
		meta.RemoveStatusCondition(&mc.Status.Conditions, hubv1alpha1.ConditionKindsReadable)
	case err == nil && len(kinds) > 0:
		meta.SetStatusCondition(&mc.Status.Conditions, kindsCondition(kinds, mc.Generation))
	}
}

// kindsCondition is the KindsReadable condition of the kinds' statuses:
// False naming every unreadable kind, with reason Forbidden when the hub's
// identity may not list one of them.
func kindsCondition(kinds []kindaccess.Status, generation int64) metav1.Condition {
	c := metav1.Condition{Type: hubv1alpha1.ConditionKindsReadable, ObservedGeneration: generation}
	var names, why []string
	reason := hubv1alpha1.ReasonKindsNotServed
	for _, k := range kinds {
		names = append(names, k.Kind+"s")
		if k.Unreadable == nil {
			continue
		}
		why = append(why, k.Unreadable.Error())
		if k.Unreadable.Forbidden {
			reason = hubv1alpha1.ReasonForbidden
		}
	}
	if len(why) == 0 {
		c.Status, c.Reason = metav1.ConditionTrue, hubv1alpha1.ReasonKindsReadable
		c.Message = "the hub may list and watch " + strings.Join(names, " and ") + " in every namespace it watches in the member"
		return c
	}
	c.Status, c.Reason = metav1.ConditionFalse, reason
	c.Message = boundedtext.Cut(strings.Join(why, "\n"), problem.MaxConditionMessage)
	return c
}
