package flinksessionjob

import (
	"encoding/json"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/api/equality"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
)

// specWithMeta is lastReconciledSpec in upstream's format.
type specWithMeta struct {
	Spec v1beta1.FlinkSessionJobSpec `json:"spec"`
	Meta *plan.ReconciliationMeta    `json:"resource_metadata,omitempty"`
}

// encodeSpec writes spec as upstream writes lastReconciledSpec.
func encodeSpec(spec *v1beta1.FlinkSessionJobSpec, first bool) (string, error) {
	raw, err := json.Marshal(specWithMeta{Spec: *spec, Meta: &plan.ReconciliationMeta{APIVersion: v1beta1.GroupVersion.String(), FirstDeployment: first}})
	return string(raw), err
}

// decodeSpec reads a lastReconciledSpec; nil for an empty one.
func decodeSpec(s string) (*v1beta1.FlinkSessionJobSpec, error) {
	if s == "" {
		return nil, nil
	}
	var w specWithMeta
	if err := json.Unmarshal([]byte(s), &w); err != nil {
		return nil, fmt.Errorf("status.reconciliationStatus.lastReconciledSpec is not valid: %w", err)
	}
	return &w.Spec, nil
}

// suspended reports whether spec asks for its job to be suspended.
func suspended(spec *v1beta1.FlinkSessionJobSpec) bool {
	return spec.Job != nil && spec.Job.State == v1beta1.JobStateSuspended
}

// changed reports whether spec differs from last in anything that needs
// the job restarted, as upstream's spec diff judges it: not the job
// fields that only steer the operator (plan.OperatorOnlyJobFields: the
// desired state, which suspend and resume handle, the snapshot nonces,
// the upgrade mode, the restore settings; savepointRedeployNonce, which
// a session job has no redeploy for, still restarts it), nor the
// operator's and the autoscaler's settings (plan.RelevantConfiguration).
// Until 2026-12-07 any of those restarted the job.
func changed(spec, last *v1beta1.FlinkSessionJobSpec) bool {
	a, b := relevantPair(spec, last)
	return !reflect.DeepEqual(a, b)
}

// overridesOnly reports spec differing from last, in what needs the job
// restarted (changed), in nothing but its parallelism overrides
// (pipeline.jobvertex-parallelism-overrides): the change a native
// FlinkDeployment's spec diff makes a scale (plan.OnlyOverridesDiffer),
// which upstream's session jobs share.
func overridesOnly(spec, last *v1beta1.FlinkSessionJobSpec) bool {
	a, b := relevantPair(spec, last)
	return !reflect.DeepEqual(a, b) && plan.OnlyOverridesDiffer(a, b)
}

// relevantPair is spec and last as maps of what needs the job restarted
// (upgradeRelevant), a nonce unset in spec taken as last's.
func relevantPair(spec, last *v1beta1.FlinkSessionJobSpec) (a, b map[string]any) {
	// A nonce unset asks for nothing (v1beta1.NonceAsks).
	if spec.RestartNonce == nil && last.RestartNonce != nil {
		spec = spec.DeepCopy()
		spec.RestartNonce = last.RestartNonce
	}
	if spec.Job != nil && last.Job != nil && spec.Job.SavepointRedeployNonce == nil && last.Job.SavepointRedeployNonce != nil {
		spec = spec.DeepCopy()
		spec.Job.SavepointRedeployNonce = last.Job.SavepointRedeployNonce
	}
	return upgradeRelevant(spec), upgradeRelevant(last)
}

// upgradeRelevant is spec as a map without what needs no restart
// (changed).
func upgradeRelevant(spec *v1beta1.FlinkSessionJobSpec) map[string]any {
	m := toMap(spec)
	if conf, err := spec.FlatConfiguration(); err == nil {
		m["flinkConfiguration"] = plan.RelevantConfiguration(conf, spec.Job != nil && spec.Job.Parallelism > 0)
	}
	if job, ok := m["job"].(map[string]any); ok {
		for _, k := range plan.OperatorOnlyJobFields {
			if k != "savepointRedeployNonce" {
				delete(job, k)
			}
		}
	}
	return m
}

// differs reports whether spec differs from last in anything the last
// reconciled spec records: everything but the desired state and the
// snapshot nonces, which their own steps record.
func differs(spec, last *v1beta1.FlinkSessionJobSpec) bool {
	a, b := spec.DeepCopy(), last.DeepCopy()
	for _, s := range []*v1beta1.FlinkSessionJobSpec{a, b} {
		if s.Job != nil {
			s.Job.State, s.Job.SavepointTriggerNonce, s.Job.CheckpointTriggerNonce = "", nil, nil
		}
	}
	return !reflect.DeepEqual(toMap(a), toMap(b))
}

func toMap(spec *v1beta1.FlinkSessionJobSpec) map[string]any {
	raw, _ := json.Marshal(spec)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

// lifecycle is status.lifecycleState as upstream computes it.
func lifecycle(st *v1beta1.FlinkSessionJobStatus, last *v1beta1.FlinkSessionJobSpec) v1beta1.ResourceLifecycleState {
	switch {
	case st.LifecycleState == v1beta1.LifecycleDeleting:
		return st.LifecycleState
	case last == nil && st.Error != "":
		return v1beta1.LifecycleFailed
	case last == nil:
		return v1beta1.LifecycleCreated
	case st.ReconciliationStatus.State == v1beta1.ReconciliationUpgrading:
		return v1beta1.LifecycleUpgrading
	case suspended(last):
		return v1beta1.LifecycleSuspended
	case st.JobStatus.State == v1beta1.JobFailed:
		return v1beta1.LifecycleFailed
	case st.JobStatus.State == v1beta1.JobRunning:
		return v1beta1.LifecycleStable
	}
	return v1beta1.LifecycleDeployed
}

func equalStatus(a, b *v1beta1.FlinkSessionJobStatus) bool { return equality.Semantic.DeepEqual(a, b) }
