package plan

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// Diff is what a spec change asks of the running cluster, as upstream
// classifies it.
type Diff int

const (
	// DiffIgnore: nothing to redeploy (operator settings, nonces handled
	// elsewhere); the new spec is only recorded.
	DiffIgnore Diff = iota
	// DiffScale: a standalone reactive cluster only resizes its
	// TaskManagers, and a native job's only change is its parallelism
	// overrides (pipeline.jobvertex-parallelism-overrides), which it may
	// take in place (as upstream: a SCALE entry in NATIVE mode); the job
	// is not restarted.
	DiffScale
	// DiffUpgrade: the cluster is redeployed by the job's upgrade mode.
	DiffUpgrade
	// DiffSavepointRedeploy: the cluster is redeployed from
	// initialSavepointPath, discarding the running job's state.
	DiffSavepointRedeploy
)

func (d Diff) String() string {
	return [...]string{"ignore", "scale", "upgrade", "savepoint-redeploy"}[d]
}

// classify compares the new spec with the last reconciled one. job.state is
// not compared: suspend and resume are decided before.
func Classify(current, last *v1beta1.FlinkDeploymentSpec) Diff {
	if current.Job != nil && last.Job != nil && v1beta1.NonceAsks(current.Job.SavepointRedeployNonce, last.Job.SavepointRedeployNonce) {
		return DiffSavepointRedeploy
	}
	if current.RestartNonce == nil && last.RestartNonce != nil {
		// Unset: no restart (v1beta1.NonceAsks).
		current = current.DeepCopy()
		current.RestartNonce = last.RestartNonce
	}
	a, b := upgradeRelevant(current), upgradeRelevant(last)
	if reflect.DeepEqual(a, b) {
		return DiffIgnore
	}
	if reactiveStandalone(current) && reactiveStandalone(last) {
		delete(a, "parallelism")
		delete(b, "parallelism")
		delete(a, "taskManagerReplicas")
		delete(b, "taskManagerReplicas")
		if reflect.DeepEqual(a, b) {
			return DiffScale
		}
	}
	if native(current) && native(last) && OnlyOverridesDiffer(a, b) {
		return DiffScale
	}
	return DiffUpgrade
}

// native reports a native cluster (the default mode).
func native(spec *v1beta1.FlinkDeploymentSpec) bool {
	return spec.Mode != v1beta1.ModeStandalone
}

// OnlyOverridesDiffer reports specs as maps of what needs a restart
// (upgradeRelevant, a session job's alike) that differ in nothing but the
// parallelism overrides of their configuration (a and b lose them).
func OnlyOverridesDiffer(a, b map[string]any) bool {
	ca, okA := a["flinkConfiguration"].(map[string]any)
	cb, okB := b["flinkConfiguration"].(map[string]any)
	if !okA || !okB {
		return false
	}
	delete(ca, flinkconf.KeyParallelismOverrides)
	delete(cb, flinkconf.KeyParallelismOverrides)
	return reflect.DeepEqual(a, b)
}

// ignoredKeyPrefixes are the configuration keys whose change upstream's
// spec diff ignores: the operator's own settings and the autoscaler's.
var ignoredKeyPrefixes = []string{flinkconf.OperatorKeyPrefix, "job.autoscaler."}

// OperatorOnlyJobFields are the job fields (JSON names) that only steer
// the operator (nonces, upgrade mode, restore settings, desired state):
// upstream's spec diff ignores a change of one, for FlinkDeployments and
// session jobs alike (savepointRedeployNonce, which redeploys, is
// compared apart).
var OperatorOnlyJobFields = []string{"savepointTriggerNonce", "checkpointTriggerNonce", "upgradeMode", "allowNonRestoredState", "initialSavepointPath", "initialStateReference", "autoscalerResetNonce", "state", "savepointRedeployNonce"}

// RelevantConfiguration is conf without the keys whose change needs no
// redeploy: the operator's and the autoscaler's settings, and
// parallelism.default when the job's parallelism comes from its spec
// (parallelismFromSpec), so it does not reach the job.
func RelevantConfiguration(conf map[string]string, parallelismFromSpec bool) map[string]any {
	kept := map[string]any{}
	for k, v := range conf {
		if !slices.ContainsFunc(ignoredKeyPrefixes, func(p string) bool { return strings.HasPrefix(k, p) }) {
			kept[k] = v
		}
	}
	if parallelismFromSpec {
		delete(kept, flinkconf.KeyParallelism)
	}
	return kept
}

// upgradeRelevant is the spec as a map without what needs no redeploy:
// operator and autoscaler configuration keys, parallelism.default where the
// job's parallelism comes from the spec, and the job fields that only steer
// the operator (nonces, upgrade mode, restore settings, desired state).
func upgradeRelevant(spec *v1beta1.FlinkDeploymentSpec) map[string]any {
	c := spec.DeepCopy()
	m := toMap(c)
	if conf, err := c.FlatConfiguration(); err == nil {
		m["flinkConfiguration"] = RelevantConfiguration(conf, parallelismFromSpec(c))
	}
	if job, ok := m["job"].(map[string]any); ok {
		for _, k := range OperatorOnlyJobFields {
			delete(job, k)
		}
		m["parallelism"] = job["parallelism"]
		delete(job, "parallelism")
	}
	if tm, ok := m["taskManager"].(map[string]any); ok {
		m["taskManagerReplicas"] = tm["replicas"]
		delete(tm, "replicas")
	}
	return m
}

// parallelismFromSpec reports a job whose parallelism the spec sets
// (job.parallelism or fixed TaskManagers), so parallelism.default does not
// reach it.
func parallelismFromSpec(spec *v1beta1.FlinkDeploymentSpec) bool {
	if spec.Job == nil {
		return false
	}
	return spec.Job.Parallelism > 0 || (spec.TaskManager != nil && spec.TaskManager.Replicas != nil)
}

// toMap is spec's JSON as a map (nil if it cannot be encoded).
func toMap(spec *v1beta1.FlinkDeploymentSpec) map[string]any {
	raw, _ := json.Marshal(spec)
	return mapOf(raw)
}

// mapOf decodes a JSON object (nil if raw is not one).
func mapOf(raw []byte) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

// reactiveStandalone reports a standalone cluster with Flink's reactive
// scheduler, whose job follows the TaskManagers it is given.
func reactiveStandalone(spec *v1beta1.FlinkDeploymentSpec) bool {
	if spec.Mode != v1beta1.ModeStandalone {
		return false
	}
	conf, err := spec.FlatConfiguration()
	return err == nil && strings.EqualFold(conf["scheduler-mode"], "reactive")
}
