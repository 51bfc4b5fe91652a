package plan

import (
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/utils/ptr"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

func TestClassify(t *testing.T) {
	base := func() *v1beta1.FlinkDeploymentSpec {
		return &v1beta1.FlinkDeploymentSpec{
			Image:              "flink:2.2",
			FlinkConfiguration: &apiextensionsv1.JSON{Raw: []byte(`{"taskmanager.numberOfTaskSlots": 2, "kubernetes.operator.periodic.savepoint.interval": "1h"}`)},
			TaskManager:        &v1beta1.TaskManagerSpec{Replicas: ptr.To[int32](2)},
			Job:                &v1beta1.JobSpec{Parallelism: 2, UpgradeMode: v1beta1.UpgradeModeSavepoint},
		}
	}
	reactive := func(s *v1beta1.FlinkDeploymentSpec) {
		s.Mode = v1beta1.ModeStandalone
		s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"scheduler-mode": "reactive"}`)}
	}
	cases := append([]classifyCase{
		{"nothing", nil, func(*v1beta1.FlinkDeploymentSpec) {}, DiffIgnore},
		{"operator key", nil, func(s *v1beta1.FlinkDeploymentSpec) {
			s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"taskmanager.numberOfTaskSlots": 2, "kubernetes.operator.periodic.savepoint.interval": "10m"}`)}
		}, DiffIgnore},
		{"savepoint nonce", nil, func(s *v1beta1.FlinkDeploymentSpec) { s.Job.SavepointTriggerNonce = ptr.To[int64](5) }, DiffIgnore},
		{"upgrade mode", nil, func(s *v1beta1.FlinkDeploymentSpec) { s.Job.UpgradeMode = v1beta1.UpgradeModeLastState }, DiffIgnore},
		{"flink key", nil, func(s *v1beta1.FlinkDeploymentSpec) {
			s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"taskmanager.numberOfTaskSlots": 4}`)}
		}, DiffUpgrade},
		{"image", nil, func(s *v1beta1.FlinkDeploymentSpec) { s.Image = "flink:2.3" }, DiffUpgrade},
		{"restart nonce", nil, func(s *v1beta1.FlinkDeploymentSpec) { s.RestartNonce = ptr.To[int64](1) }, DiffUpgrade},
		{"parallelism, native", nil, func(s *v1beta1.FlinkDeploymentSpec) { s.Job.Parallelism = 4 }, DiffUpgrade},
		{"parallelism, reactive standalone", reactive, func(s *v1beta1.FlinkDeploymentSpec) { s.Job.Parallelism = 4 }, DiffScale},
		{"replicas, reactive standalone", reactive, func(s *v1beta1.FlinkDeploymentSpec) { s.TaskManager.Replicas = ptr.To[int32](5) }, DiffScale},
		{"replicas and image, reactive standalone", reactive, func(s *v1beta1.FlinkDeploymentSpec) {
			s.TaskManager.Replicas = ptr.To[int32](5)
			s.Image = "flink:2.3"
		}, DiffUpgrade},
		{"autoscaler key", nil, func(s *v1beta1.FlinkDeploymentSpec) {
			s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"taskmanager.numberOfTaskSlots": 2, "kubernetes.operator.periodic.savepoint.interval": "1h", "job.autoscaler.enabled": "true"}`)}
		}, DiffIgnore},
		{"parallelism.default beside job.parallelism", nil, func(s *v1beta1.FlinkDeploymentSpec) {
			s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"taskmanager.numberOfTaskSlots": 2, "kubernetes.operator.periodic.savepoint.interval": "1h", "parallelism.default": "8"}`)}
		}, DiffIgnore},
		{"parallelism.default of a session cluster", func(s *v1beta1.FlinkDeploymentSpec) {
			s.Job, s.TaskManager = nil, nil
		}, func(s *v1beta1.FlinkDeploymentSpec) {
			s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"taskmanager.numberOfTaskSlots": 2, "kubernetes.operator.periodic.savepoint.interval": "1h", "parallelism.default": "8"}`)}
		}, DiffUpgrade},
		{"savepoint redeploy", nil, func(s *v1beta1.FlinkDeploymentSpec) { s.Job.SavepointRedeployNonce = ptr.To[int64](1) }, DiffSavepointRedeploy},
		// As upstream's onNullIgnore: a nonce unset asks for nothing.
		{"restart nonce unset", func(s *v1beta1.FlinkDeploymentSpec) { s.RestartNonce = ptr.To[int64](3) },
			func(s *v1beta1.FlinkDeploymentSpec) { s.RestartNonce = nil }, DiffIgnore},
		{"savepoint redeploy nonce unset", func(s *v1beta1.FlinkDeploymentSpec) { s.Job.SavepointRedeployNonce = ptr.To[int64](3) },
			func(s *v1beta1.FlinkDeploymentSpec) { s.Job.SavepointRedeployNonce = nil }, DiffIgnore},
		{"restart nonce unset beside an image", func(s *v1beta1.FlinkDeploymentSpec) { s.RestartNonce = ptr.To[int64](3) },
			func(s *v1beta1.FlinkDeploymentSpec) { s.RestartNonce, s.Image = nil, "flink:2.3" }, DiffUpgrade},
	}, overrideCases()...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			last := base()
			if tc.before != nil {
				tc.before(last)
			}
			current := last.DeepCopy()
			tc.change(current)
			if got := Classify(current, last); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// classifyCase is a change of a last reconciled spec (before, then
// change) and the Diff Classify must see.
type classifyCase struct {
	name   string
	before func(*v1beta1.FlinkDeploymentSpec)
	change func(*v1beta1.FlinkDeploymentSpec)
	want   Diff
}

// overrideCases: as upstream's SCALE entry in NATIVE mode, a change of the
// parallelism overrides alone is a scale.
func overrideCases() []classifyCase {
	return []classifyCase{
		{"parallelism overrides set, native", nil, overrides(`"v1:4"`), DiffScale},
		{"parallelism overrides changed, native", overrides(`"v1:4"`), overrides(`"v1:2"`), DiffScale},
		{"parallelism overrides removed, native", overrides(`"v1:4"`), func(s *v1beta1.FlinkDeploymentSpec) {
			s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"taskmanager.numberOfTaskSlots": 2, "kubernetes.operator.periodic.savepoint.interval": "1h"}`)}
		}, DiffScale},
		{"parallelism overrides and an operator key, native", nil, func(s *v1beta1.FlinkDeploymentSpec) {
			s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"taskmanager.numberOfTaskSlots": 2, "kubernetes.operator.periodic.savepoint.interval": "5m", "pipeline.jobvertex-parallelism-overrides": "v1:4"}`)}
		}, DiffScale},
		{"parallelism overrides and a Flink key, native", nil, func(s *v1beta1.FlinkDeploymentSpec) {
			s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"taskmanager.numberOfTaskSlots": 4, "pipeline.jobvertex-parallelism-overrides": "v1:4"}`)}
		}, DiffUpgrade},
		{"parallelism overrides and job.parallelism, native", nil, func(s *v1beta1.FlinkDeploymentSpec) {
			overrides(`"v1:4"`)(s)
			s.Job.Parallelism = 4
		}, DiffUpgrade},
		{"parallelism overrides and native to standalone", nil, func(s *v1beta1.FlinkDeploymentSpec) {
			overrides(`"v1:4"`)(s)
			s.Mode = v1beta1.ModeStandalone
		}, DiffUpgrade},
		{"parallelism overrides, standalone", func(s *v1beta1.FlinkDeploymentSpec) { s.Mode = v1beta1.ModeStandalone }, overrides(`"v1:4"`), DiffUpgrade},
	}
}

// overrides sets the base configuration with the parallelism overrides
// value (JSON).
func overrides(value string) func(*v1beta1.FlinkDeploymentSpec) {
	return func(s *v1beta1.FlinkDeploymentSpec) {
		s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"taskmanager.numberOfTaskSlots": 2, "kubernetes.operator.periodic.savepoint.interval": "1h", "pipeline.jobvertex-parallelism-overrides": ` + value + `}`)}
	}
}
