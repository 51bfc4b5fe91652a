package flinkdeployment

import (
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

// lifecycleState computes status.lifecycleState from the rest of the status
// as the upstream operator does. last is st's lastReconciledSpec decoded,
// when the caller has it; nil decodes it here.
func lifecycleState(st *v1beta1.FlinkDeploymentStatus, last *v1beta1.FlinkDeploymentSpec) v1beta1.ResourceLifecycleState {
	if st.LifecycleState == v1beta1.LifecycleDeleting || st.LifecycleState == v1beta1.LifecycleDeleted {
		return st.LifecycleState
	}
	rs := st.ReconciliationStatus
	if rs.LastReconciledSpec == "" {
		if st.Error == "" {
			return v1beta1.LifecycleCreated
		}
		return v1beta1.LifecycleFailed
	}
	switch rs.State {
	case v1beta1.ReconciliationUpgrading:
		return v1beta1.LifecycleUpgrading
	case v1beta1.ReconciliationRollingBack:
		return v1beta1.LifecycleRollingBack
	}
	if last == nil {
		last, _, _ = plan.DecodeSpec(rs.LastReconciledSpec) // unreadable: nil, not suspended
	}
	if last != nil && last.Job != nil && last.Job.State == v1beta1.JobStateSuspended {
		return v1beta1.LifecycleSuspended
	}
	if st.JobStatus.State == v1beta1.JobFailed {
		return v1beta1.LifecycleFailed
	}
	if rs.State == v1beta1.ReconciliationRolledBack {
		return v1beta1.LifecycleRolledBack
	}
	if rs.LastStableSpec != "" && rs.LastStableSpec == rs.LastReconciledSpec {
		return v1beta1.LifecycleStable
	}
	return v1beta1.LifecycleDeployed
}
