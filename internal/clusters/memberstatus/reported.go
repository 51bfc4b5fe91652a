package memberstatus

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
	"github.com/flink-hub/flink-hub/internal/clusters/health"
)

// reported is the health the MemberCluster reports; nil when it reports
// none yet.
func reported(mc *hubv1alpha1.MemberCluster) *health.Result {
	c := meta.FindStatusCondition(mc.Status.Conditions, hubv1alpha1.ConditionReady)
	if c == nil {
		return nil
	}
	return &health.Result{Ready: c.Status == metav1.ConditionTrue, Reason: c.Reason, Message: c.Message, KubernetesVersion: mc.Status.KubernetesVersion}
}

// indexReported puts the member's row, as its status writer reported it,
// into the fleet index.
func (r *Reconciler) indexReported(mc *hubv1alpha1.MemberCluster) {
	h := reported(mc)
	if h == nil {
		return
	}
	row := fleetindex.Cluster{Name: mc.Name, Ready: h.Ready, Reason: h.Reason, Message: h.Message, KubernetesVersion: h.KubernetesVersion}
	if t := mc.Status.LastProbeTime; t != nil {
		probed := t.Time
		row.LastProbe = &probed
	}
	r.Index.UpsertCluster(row)
}
