package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// Suspended reports whether spec asks for its job to be suspended.
func Suspended(spec *v1beta1.FlinkDeploymentSpec) bool {
	return spec.Job != nil && spec.Job.State == v1beta1.JobStateSuspended
}

// UpgradeMode is the spec's upgrade mode, stateless when unset as upstream.
func UpgradeMode(spec *v1beta1.FlinkDeploymentSpec) v1beta1.UpgradeMode {
	if spec.Job == nil || spec.Job.UpgradeMode == "" {
		return v1beta1.UpgradeModeStateless
	}
	return spec.Job.UpgradeMode
}

// InitialSavepoint is the spec's job.initialSavepointPath.
func InitialSavepoint(spec *v1beta1.FlinkDeploymentSpec) string {
	if spec.Job == nil {
		return ""
	}
	return spec.Job.InitialSavepointPath
}

// OperatorSetting reads a kubernetes.operator.* key (flinkconf.Key...) of
// the spec.
func OperatorSetting(spec *v1beta1.FlinkDeploymentSpec, key string) string {
	conf, err := spec.FlatConfiguration()
	if err != nil {
		return ""
	}
	return flinkconf.OperatorSetting(conf, key)
}

// HAEnabled reports whether the spec configures Flink HA.
func HAEnabled(spec *v1beta1.FlinkDeploymentSpec) bool {
	conf, err := spec.FlatConfiguration()
	return err == nil && flinkconf.Config(conf).HAEnabled()
}

// SavepointDirSet reports a savepoint directory in any of specs: the
// hub sends the new spec's with a savepoint trigger, and without it the
// running cluster writes to its own.
func SavepointDirSet(specs ...*v1beta1.FlinkDeploymentSpec) bool {
	for _, spec := range specs {
		if conf, err := spec.FlatConfiguration(); err == nil && flinkconf.SavepointsDir(flinkconf.Config(conf).Get) != "" {
			return true
		}
	}
	return false
}

// DurationSetting reads an operator setting in Flink's duration format, 0
// when unset or unreadable (the validation rejects that).
func DurationSetting(spec *v1beta1.FlinkDeploymentSpec, key string) time.Duration {
	d, _ := flinkconf.ParseDuration(OperatorSetting(spec, key))
	return d
}

// SettingOff reports a boolean operator setting that is true by default
// turned off: false when unset or not a boolean (the validation rejects
// that).
func SettingOff(spec *v1beta1.FlinkDeploymentSpec, key string) bool {
	v, ok := flinkconf.Bool(OperatorSetting(spec, key))
	return ok && !v
}

// SettingOn reads a boolean operator setting, false when unset or not a
// boolean (the validation rejects that).
func SettingOn(spec *v1beta1.FlinkDeploymentSpec, key string) bool {
	v, _ := flinkconf.Bool(OperatorSetting(spec, key))
	return v
}

// Changed reports whether spec differs from the last reconciled one in
// anything but its snapshot trigger nonces (WithHandledNonces: a new one
// is the manual snapshot steps', not a change to record); the JSON round
// trip erases nil-versus-empty differences. Equal values (most steady
// reconciles) answer without encoding either; equal JSON answers without
// the round trip: two values of one type that encode alike decode alike.
func Changed(spec, last *v1beta1.FlinkDeploymentSpec) bool {
	spec = WithHandledNonces(spec, last)
	if reflect.DeepEqual(spec, last) {
		return false
	}
	a, aerr := json.Marshal(spec)
	b, berr := json.Marshal(last)
	if aerr == nil && berr == nil && bytes.Equal(a, b) {
		return false
	}
	return !reflect.DeepEqual(mapOf(a), mapOf(b))
}

// WithHandledNonces is spec with the savepoint and checkpoint trigger
// nonces of last, the ones already acted upon: what the reconcile records
// of spec, so a new nonce stays pending until its snapshot is triggered,
// which records it (upstream's updateStatusForSpecReconciliation keeps the
// last reconciled nonces alike, "to not lose new triggers"). spec itself
// when the nonces are the same or either has no job.
func WithHandledNonces(spec, last *v1beta1.FlinkDeploymentSpec) *v1beta1.FlinkDeploymentSpec {
	if last == nil {
		return spec
	}
	job := WithHandledJobNonces(spec.Job, last.Job)
	if job == spec.Job {
		return spec
	}
	c := spec.DeepCopy()
	c.Job = job
	return c
}

// WithHandledJobNonces is WithHandledNonces for a job spec, a
// FlinkDeployment's or a FlinkSessionJob's: a copy of job with the
// savepoint and checkpoint trigger nonces of last, the last reconciled
// job; job itself when the nonces are the same or either is nil.
func WithHandledJobNonces(job, last *v1beta1.JobSpec) *v1beta1.JobSpec {
	if job == nil || last == nil ||
		(v1beta1.EqualNonce(job.SavepointTriggerNonce, last.SavepointTriggerNonce) && v1beta1.EqualNonce(job.CheckpointTriggerNonce, last.CheckpointTriggerNonce)) {
		return job
	}
	c := job.DeepCopy()
	c.SavepointTriggerNonce, c.CheckpointTriggerNonce = last.SavepointTriggerNonce, last.CheckpointTriggerNonce
	return c
}

// Stable reports whether the deployed spec has reached a state upstream
// calls stable: JobManager ready, and for applications the job running or,
// a bounded job, finished on its own (a stop for an upgrade finishes it too,
// but the reconciliation is UPGRADING then, never marked stable).
func Stable(st *v1beta1.FlinkDeploymentStatus, spec *v1beta1.FlinkDeploymentSpec) bool {
	if st.JobManagerDeploymentStatus != v1beta1.JobManagerReady {
		return false
	}
	if spec.Job == nil {
		return true
	}
	return st.JobStatus.State == v1beta1.JobRunning || (st.JobStatus.State == v1beta1.JobFinished && !Suspended(spec))
}

// ReadinessTimeout is how long spec's JobManager may take to become
// ready: its kubernetes.operator.deployment.readiness.timeout if set (as
// upstream reads it per resource), else def.
func ReadinessTimeout(spec *v1beta1.FlinkDeploymentSpec, def time.Duration) time.Duration {
	if d := DurationSetting(spec, flinkconf.KeyReadinessTimeout); d > 0 {
		return d
	}
	return def
}

// ReconciliationMeta is upstream's ReconciliationMetadata.
type ReconciliationMeta struct {
	APIVersion      string `json:"apiVersion"`
	FirstDeployment bool   `json:"firstDeployment"`
}

// specWithMeta is the JSON of status.reconciliationStatus.lastReconciledSpec
// and lastStableSpec: {"spec": ..., "resource_metadata": ...}.
type specWithMeta struct {
	Spec v1beta1.FlinkDeploymentSpec `json:"spec"`
	Meta *ReconciliationMeta         `json:"resource_metadata,omitempty"`
}

// EncodeSpec writes spec in upstream's lastReconciledSpec format.
func EncodeSpec(spec *v1beta1.FlinkDeploymentSpec, firstDeployment bool) (string, error) {
	raw, err := json.Marshal(specWithMeta{Spec: *spec, Meta: &ReconciliationMeta{APIVersion: v1beta1.GroupVersion.String(), FirstDeployment: firstDeployment}})
	return string(raw), err
}

// DecodeSpec reads a lastReconciledSpec; nil for an empty one. Whoever
// may write the status could plant a quantity that never finishes parsing
// in its podTemplates: such a spec is refused before the typed decode.
func DecodeSpec(s string) (*v1beta1.FlinkDeploymentSpec, *ReconciliationMeta, error) {
	if s == "" {
		return nil, nil, nil
	}
	raw, refused, err := v1beta1.DefuseQuantities([]byte(s))
	if err != nil {
		return nil, nil, fmt.Errorf("status.reconciliationStatus.lastReconciledSpec is not valid: %w", err)
	}
	if len(refused) > 0 {
		return nil, nil, fmt.Errorf("status.reconciliationStatus.lastReconciledSpec is not valid: quantities with an exponent of three digits or more are refused: %s", strings.Join(refused, ", "))
	}
	var w specWithMeta
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, fmt.Errorf("status.reconciliationStatus.lastReconciledSpec is not valid: %w", err)
	}
	return &w.Spec, w.Meta, nil
}
