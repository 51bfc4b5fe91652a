package flinkconf

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

// TestJobParallelism: as upstream, fixed TaskManagers give the job all their
// slots in both modes, else, in standalone mode, the largest per-vertex
// override, else spec.job.parallelism.
func TestJobParallelism(t *testing.T) {
	for _, tc := range []struct {
		name      string
		replicas  *int32
		conf      map[string]string
		job       int32
		mode      v1beta1.KubernetesDeploymentMode
		want      string
		wantTMRep string
	}{
		{name: "job parallelism", job: 3, mode: v1beta1.ModeNative, want: "3"},
		{name: "replicas x slots, native", replicas: ptr.To[int32](2), conf: map[string]string{KeySlots: "3"}, job: 10, mode: v1beta1.ModeNative, want: "6", wantTMRep: "2"},
		{name: "replicas x slots, standalone", replicas: ptr.To[int32](2), conf: map[string]string{KeySlots: "3"}, job: 10, mode: v1beta1.ModeStandalone, want: "6", wantTMRep: "2"},
		// Validation accepts any job.parallelism with fixed TaskManagers,
		// as upstream: it is not read.
		{name: "negative job parallelism ignored, native", replicas: ptr.To[int32](2), conf: map[string]string{KeySlots: "3"}, job: -1, mode: v1beta1.ModeNative, want: "6", wantTMRep: "2"},
		{name: "negative job parallelism ignored, standalone", replicas: ptr.To[int32](2), job: -5, mode: v1beta1.ModeStandalone, want: "2", wantTMRep: "2"},
		// Native: Flink asks for the TaskManagers the overrides need; a
		// vertex without one keeps the job's parallelism.
		{name: "overrides, native", conf: map[string]string{KeyParallelismOverrides: "a1:4,b2:7"}, job: 2, mode: v1beta1.ModeNative, want: "2"},
		// Standalone: the largest override sizes the TaskManagers.
		{name: "largest override, standalone", conf: map[string]string{KeySlots: "2", KeyParallelismOverrides: "a1:4,b2:7"}, job: 2, mode: v1beta1.ModeStandalone, want: "7", wantTMRep: "4"},
		{name: "standalone TaskManagers from parallelism", conf: map[string]string{KeySlots: "2"}, job: 5, mode: v1beta1.ModeStandalone, want: "5", wantTMRep: "3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := buildSpec(t, v1beta1.FlinkDeploymentSpec{
				FlinkConfiguration: v1beta1.ConfigurationOf(tc.conf),
				TaskManager:        &v1beta1.TaskManagerSpec{Replicas: tc.replicas},
				Job:                &v1beta1.JobSpec{JarURI: "local:///job.jar", Parallelism: tc.job},
			}, tc.mode)
			if c[KeyParallelism] != tc.want || c[KeyTMReplicas] != tc.wantTMRep {
				t.Errorf("parallelism %q, TaskManagers %q; want %q, %q", c[KeyParallelism], c[KeyTMReplicas], tc.want, tc.wantTMRep)
			}
		})
	}
}

// TestResourceLimitsBecomeFactors: a limit above the request in
// spec.*.resources becomes the role's limit factor (so Flink's own pods get
// it too) unless the configuration sets the factor; a limit below the
// request is refused.
func TestResourceLimitsBecomeFactors(t *testing.T) {
	res := func(reqMem, limMem, reqCPU, limCPU string) *v1beta1.ResourceRequirements {
		r := &v1beta1.ResourceRequirements{Requests: map[corev1.ResourceName]intstr.IntOrString{}, Limits: map[corev1.ResourceName]intstr.IntOrString{}}
		r.Requests[corev1.ResourceMemory], r.Requests[corev1.ResourceCPU] = intstr.FromString(reqMem), intstr.FromString(reqCPU)
		if limMem != "" {
			r.Limits[corev1.ResourceMemory] = intstr.FromString(limMem)
		}
		if limCPU != "" {
			r.Limits[corev1.ResourceCPU] = intstr.FromString(limCPU)
		}
		return r
	}
	for _, tc := range []struct {
		name             string
		tm               *v1beta1.ResourceRequirements
		conf             map[string]string
		wantMem, wantCPU string
		wantErr          string
	}{
		{name: "limits above requests", tm: res("2Gi", "3Gi", "1", "2"), wantMem: "1.5", wantCPU: "2"},
		{name: "limits equal", tm: res("2Gi", "2Gi", "1", "")},
		{name: "the configured factor wins", tm: res("2Gi", "4Gi", "1", ""), conf: map[string]string{"kubernetes.taskmanager.memory.limit-factor": "1.1"}, wantMem: "1.1"},
		{name: "memory limit below request", tm: res("2Gi", "1Gi", "1", ""), wantErr: "memory limit 1Gi is below the request 2Gi"},
		{name: "cpu limit below request", tm: res("2Gi", "", "2", "500m"), wantErr: "cpu limit 500m is below the request 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd := &v1beta1.FlinkDeployment{Spec: v1beta1.FlinkDeploymentSpec{FlinkConfiguration: v1beta1.ConfigurationOf(tc.conf), TaskManager: &v1beta1.TaskManagerSpec{Resources: tc.tm}}}
			c, err := Build(fd, v1beta1.ModeNative, Restore{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "spec.taskManager.resources") {
					t.Fatalf("err %v; want one naming spec.taskManager.resources with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c[RoleTaskManager.MemoryLimitFactorKey()]; got != tc.wantMem {
				t.Errorf("memory factor %q, want %q", got, tc.wantMem)
			}
			if got := c[RoleTaskManager.CPULimitFactorKey()]; got != tc.wantCPU {
				t.Errorf("cpu factor %q, want %q", got, tc.wantCPU)
			}
		})
	}
}

func TestTotals(t *testing.T) {
	for _, tc := range []struct {
		conf    Config
		tms     int32
		cpu     float64
		memory  int64
		wantErr bool
	}{
		{conf: Config{KeyJMMemory: "1g", KeyTMMemory: "2g", KeyJMCPU: "0.5", KeyTMCPU: "2"}, tms: 3, cpu: 6.5, memory: 7 << 30},
		{conf: Config{KeyJMMemory: "1g", KeyTMMemory: "2g", KeySlots: "4", KeyJMReplicas: "2"}, tms: 1, cpu: 6, memory: 4 << 30},
		{conf: Config{KeyTMMemory: "2g"}, wantErr: true},
	} {
		cpu, memory, ok := tc.conf.Totals(tc.tms)
		if ok == tc.wantErr || (ok && (cpu != tc.cpu || memory != tc.memory)) {
			t.Errorf("Totals(%v, %d) = %v, %v, %v; want %v, %v", tc.conf, tc.tms, cpu, memory, ok, tc.cpu, tc.memory)
		}
	}
}

// TestRenderRefusesKeysFlinkTrims: flink-conf.yaml's loader trims keys and
// lets a later line win, so a tenant key such as "execution.savepoint.path "
// sorted after the hub's line would override it. Both files refuse any key
// Flink would read trimmed, naming it.
func TestRenderRefusesKeysFlinkTrims(t *testing.T) {
	for _, key := range []string{"execution.savepoint.path ", "kubernetes.cluster-id\t", " kubernetes.namespace", "high-availability.cluster-id\x01", "kubernetes.cluster-id\u00a0"} {
		for _, file := range []string{LegacyFileName, FileNameYAML} {
			c := Config{key: "evil", KeyClusterID: "mine", KeyNamespace: "ns", KeyHAClusterID: "mine", KeySavepointPath: "s3://b/sp"}
			out, err := c.Render(file)
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("configuration key %q starts or ends with white space", key)) {
				t.Errorf("%s: key %q rendered (%v):\n%s", file, key, err, out)
			}
		}
	}
	if _, err := (Config{KeyClusterID: "mine", "a.b": " spaced value "}).Render(LegacyFileName); err != nil {
		t.Errorf("ordinary keys refused: %v", err)
	}
}

// TestStandaloneJarURIErrorHidesPassword: a standalone jarURI that does
// not parse is refused without quoting it (it may hold a password).
func TestStandaloneJarURIErrorHidesPassword(t *testing.T) {
	fd := &v1beta1.FlinkDeployment{Spec: v1beta1.FlinkDeploymentSpec{Job: &v1beta1.JobSpec{JarURI: "https://deploy:hunter2@artifacts.example.com:80a/job.jar", Parallelism: 1}}}
	fd.Name, fd.Namespace = "fd", "ns"
	_, err := Build(fd, v1beta1.ModeStandalone, Restore{})
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "spec.job.jarURI: (unparsable URI) is not a valid URI") {
		t.Errorf("got %v", err)
	}
}

// TestServiceAccount: spec.serviceAccount names the pods' ServiceAccount
// over the configuration's; an empty one, as upstream, leaves them the
// namespace's default (Flink's "default" when the key is unset).
func TestServiceAccount(t *testing.T) {
	type saCase struct {
		name, want string
		sa         *string
		conf       map[string]string
		wantSet    bool
	}
	for _, tc := range []saCase{
		{name: "named", sa: ptr.To("flink"), conf: map[string]string{KeyServiceAccount: "other"}, want: "flink", wantSet: true},
		{name: "empty wins over the configuration", sa: ptr.To(""), conf: map[string]string{KeyServiceAccount: "other"}},
		{name: "empty", sa: ptr.To("")},
		{name: "none leaves the configuration's", conf: map[string]string{KeyServiceAccount: "other"}, want: "other", wantSet: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := buildSpec(t, v1beta1.FlinkDeploymentSpec{ServiceAccount: tc.sa, FlinkConfiguration: v1beta1.ConfigurationOf(tc.conf)}, v1beta1.ModeNative)
			if got, set := c[KeyServiceAccount]; got != tc.want || set != tc.wantSet {
				t.Errorf("%s = %q (set %v), want %q (set %v)", KeyServiceAccount, got, set, tc.want, tc.wantSet)
			}
		})
	}
}

// buildSpec is the configuration Build makes of a FlinkDeployment fd/ns
// with spec, in mode.
func buildSpec(t *testing.T, spec v1beta1.FlinkDeploymentSpec, mode v1beta1.KubernetesDeploymentMode) Config {
	t.Helper()
	fd := &v1beta1.FlinkDeployment{Spec: spec}
	fd.Name, fd.Namespace = "fd", "ns"
	c, err := Build(fd, mode, Restore{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestBuildLeavesOutTheJarFetchHeaders: a session cluster's jar fetch
// headers (credentials the hub sends to an artifact repository) stay out
// of the Flink configuration its ConfigMap stores and its REST API shows.
func TestBuildLeavesOutTheJarFetchHeaders(t *testing.T) {
	c := buildSpec(t, v1beta1.FlinkDeploymentSpec{
		FlinkConfiguration: v1beta1.ConfigurationOf(map[string]string{KeyArtifactHTTPHeader: "Authorization:Bearer hunter2", KeySlots: "2"}),
	}, v1beta1.ModeNative)
	if _, ok := c[KeyArtifactHTTPHeader]; ok || c[KeySlots] != "2" {
		t.Errorf("configuration %v: want the header left out, the rest kept", c)
	}
}
