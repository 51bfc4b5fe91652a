package flinkdeployment

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
	cases := []struct {
		name   string
		before func(*v1beta1.FlinkDeploymentSpec)
		change func(*v1beta1.FlinkDeploymentSpec)
		want   diffType
	}{
		{"nothing", nil, func(*v1beta1.FlinkDeploymentSpec) {}, diffIgnore},
		{"operator key", nil, func(s *v1beta1.FlinkDeploymentSpec) {
			s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"taskmanager.numberOfTaskSlots": 2, "kubernetes.operator.periodic.savepoint.interval": "10m"}`)}
		}, diffIgnore},
		{"savepoint nonce", nil, func(s *v1beta1.FlinkDeploymentSpec) { s.Job.SavepointTriggerNonce = ptr.To[int64](5) }, diffIgnore},
		{"upgrade mode", nil, func(s *v1beta1.FlinkDeploymentSpec) { s.Job.UpgradeMode = v1beta1.UpgradeModeLastState }, diffIgnore},
		{"flink key", nil, func(s *v1beta1.FlinkDeploymentSpec) {
			s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"taskmanager.numberOfTaskSlots": 4}`)}
		}, diffUpgrade},
		{"image", nil, func(s *v1beta1.FlinkDeploymentSpec) { s.Image = "flink:2.3" }, diffUpgrade},
		{"restart nonce", nil, func(s *v1beta1.FlinkDeploymentSpec) { s.RestartNonce = ptr.To[int64](1) }, diffUpgrade},
		{"parallelism, native", nil, func(s *v1beta1.FlinkDeploymentSpec) { s.Job.Parallelism = 4 }, diffUpgrade},
		{"parallelism, reactive standalone", reactive, func(s *v1beta1.FlinkDeploymentSpec) { s.Job.Parallelism = 4 }, diffScale},
		{"replicas, reactive standalone", reactive, func(s *v1beta1.FlinkDeploymentSpec) { s.TaskManager.Replicas = ptr.To[int32](5) }, diffScale},
		{"replicas and image, reactive standalone", reactive, func(s *v1beta1.FlinkDeploymentSpec) {
			s.TaskManager.Replicas = ptr.To[int32](5)
			s.Image = "flink:2.3"
		}, diffUpgrade},
		{"savepoint redeploy", nil, func(s *v1beta1.FlinkDeploymentSpec) { s.Job.SavepointRedeployNonce = ptr.To[int64](1) }, diffSavepointRedeploy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			last := base()
			if tc.before != nil {
				tc.before(last)
			}
			current := last.DeepCopy()
			tc.change(current)
			if got := classify(current, last); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}
