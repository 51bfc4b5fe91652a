package flinkconf

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestPodSettings(t *testing.T) {
	c := Config{
		"kubernetes.jobmanager.annotations":          "a.example.com/x:1",
		"kubernetes.jobmanager.labels":               "team:a",
		"kubernetes.jobmanager.node-selector":        "pool:control",
		"kubernetes.jobmanager.tolerations":          "Key:k,Operator:Equal,Value:v,Effect:NoSchedule,TolerationSeconds:30;key:x,operator:Exists",
		"kubernetes.jobmanager.cpu.limit-factor":     "2.5",
		KeyServiceAccount:                            "flink",
		"kubernetes.taskmanager.service-account":     "tm",
		KeyImagePullSecrets:                          "one;two",
		"containerized.master.env.B":                 "2",
		"containerized.master.env.A":                 "1",
		"containerized.taskmanager.env.ONLY_TM":      "x",
		"kubernetes.taskmanager.memory.limit-factor": "1.25",
	}
	jm, err := c.PodSettings(RoleJobManager)
	if err != nil {
		t.Fatal(err)
	}
	if jm.Annotations["a.example.com/x"] != "1" || jm.Labels["team"] != "a" || jm.NodeSelector["pool"] != "control" {
		t.Errorf("maps: %+v", jm)
	}
	if len(jm.Tolerations) != 2 || jm.Tolerations[0].Effect != corev1.TaintEffectNoSchedule || *jm.Tolerations[0].TolerationSeconds != 30 || jm.Tolerations[1].Operator != corev1.TolerationOpExists {
		t.Errorf("tolerations: %+v", jm.Tolerations)
	}
	if jm.CPULimitFactor != 2.5 || jm.MemoryLimitFactor != 1 || jm.ServiceAccount != "flink" {
		t.Errorf("factors or service account: %+v", jm)
	}
	if len(jm.Env) != 2 || jm.Env[0].Name != "A" || jm.Env[1].Name != "B" || len(jm.ImagePullSecrets) != 2 {
		t.Errorf("env (sorted, JobManager's only) or secrets: %+v %+v", jm.Env, jm.ImagePullSecrets)
	}
	tm, err := c.PodSettings(RoleTaskManager)
	if err != nil {
		t.Fatal(err)
	}
	if tm.ServiceAccount != "tm" || tm.MemoryLimitFactor != 1.25 || len(tm.Env) != 1 || tm.Env[0].Name != "ONLY_TM" || len(tm.Tolerations) != 0 {
		t.Errorf("TaskManager settings: %+v", tm)
	}
}

// TestPodSettingsErrors: hostile or mistaken values are refused, naming
// their key.
func TestPodSettingsErrors(t *testing.T) {
	for _, tc := range []struct {
		key, value, want string
	}{
		{"kubernetes.jobmanager.cpu.limit-factor", "0.5", "below 1"},
		{"kubernetes.jobmanager.memory.limit-factor", "NaN", "not a number"},
		{"kubernetes.taskmanager.cpu.limit-factor", "1e9", "above 1000"},
		{"kubernetes.jobmanager.tolerations", "key:a,colour:red", `"colour" is not a toleration field`},
		{"kubernetes.jobmanager.tolerations", "key:a,tolerationSeconds:soon", "not a whole number"},
		{"kubernetes.jobmanager.labels", "bad key:v", "not a label key"},
		{"kubernetes.taskmanager.node-selector", "k:" + strings.Repeat("v", 64), "not a label value"},
		{"kubernetes.jobmanager.annotations", "a:b:c", "not key:value"},
		{"containerized.master.env.1BAD", "x", "not an environment variable name"},
		{"kubernetes.jobmanager.owner.reference", "apiVersion:v1,kind:ConfigMap,name:a", "needs apiVersion, kind, name and uid"},
		{"kubernetes.jobmanager.owner.reference", "apiVersion:v1,kind:ConfigMap,name:a,uid:u,controller:true", "may not be the controller"},
	} {
		err := Config{tc.key: tc.value}.CheckPodSettings()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s=%q: %v; want an error naming the key with %q", tc.key, tc.value, err, tc.want)
		}
	}
}
