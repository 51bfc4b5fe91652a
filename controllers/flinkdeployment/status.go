package flinkdeployment

import (
	"encoding/json"
	"fmt"
	"reflect"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

// reconciliationMeta is upstream's ReconciliationMetadata.
type reconciliationMeta struct {
	APIVersion      string `json:"apiVersion"`
	FirstDeployment bool   `json:"firstDeployment"`
}

// specWithMeta is the JSON of status.reconciliationStatus.lastReconciledSpec
// and lastStableSpec: {"spec": ..., "resource_metadata": ...}.
type specWithMeta struct {
	Spec v1beta1.FlinkDeploymentSpec `json:"spec"`
	Meta *reconciliationMeta         `json:"resource_metadata,omitempty"`
}

// encodeSpec writes spec in upstream's lastReconciledSpec format.
func encodeSpec(spec *v1beta1.FlinkDeploymentSpec, firstDeployment bool) (string, error) {
	raw, err := json.Marshal(specWithMeta{Spec: *spec, Meta: &reconciliationMeta{APIVersion: v1beta1.GroupVersion.String(), FirstDeployment: firstDeployment}})
	return string(raw), err
}

// decodeSpec reads a lastReconciledSpec; nil for an empty one.
func decodeSpec(s string) (*v1beta1.FlinkDeploymentSpec, *reconciliationMeta, error) {
	if s == "" {
		return nil, nil, nil
	}
	var w specWithMeta
	if err := json.Unmarshal([]byte(s), &w); err != nil {
		return nil, nil, fmt.Errorf("status.reconciliationStatus.lastReconciledSpec is not valid: %w", err)
	}
	return &w.Spec, w.Meta, nil
}

// lifecycleState computes status.lifecycleState from the rest of the status
// as the upstream operator does.
func lifecycleState(st *v1beta1.FlinkDeploymentStatus) v1beta1.ResourceLifecycleState {
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
	if last, _, err := decodeSpec(rs.LastReconciledSpec); err == nil && last != nil && last.Job != nil && last.Job.State == v1beta1.JobStateSuspended {
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

// specChanged reports whether the spec differs from the last reconciled one
// in anything but fields that need no action on the cluster.
func specChanged(current, last *v1beta1.FlinkDeploymentSpec) bool {
	return !reflect.DeepEqual(comparable(current), comparable(last))
}

// comparable drops what a redeploy does not depend on: the JSON round trip
// also erases nil-versus-empty differences.
func comparable(spec *v1beta1.FlinkDeploymentSpec) map[string]any {
	raw, _ := json.Marshal(spec)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

// isStable reports whether the deployed spec has reached a state upstream
// calls stable: JobManager ready, and for applications the job running or,
// a bounded job, finished on its own (a stop for an upgrade finishes it too,
// but the reconciliation is UPGRADING then, never marked stable).
func isStable(st *v1beta1.FlinkDeploymentStatus, spec *v1beta1.FlinkDeploymentSpec) bool {
	if st.JobManagerDeploymentStatus != v1beta1.JobManagerReady {
		return false
	}
	if spec.Job == nil {
		return true
	}
	return st.JobStatus.State == v1beta1.JobRunning || (st.JobStatus.State == v1beta1.JobFinished && !suspended(spec))
}
