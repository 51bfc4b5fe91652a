package flinksim

import (
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
)

func jmDeployment(typ, image string, command, args []string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "basic", Labels: map[string]string{"app": "basic", "component": "jobmanager", "type": typ}},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "sidecar", Image: "busybox:1.36"},
			{Name: "flink-main-container", Image: image, Command: command, Args: args},
		}}}},
	}
}

func TestBuildClusterConfig(t *testing.T) {
	ha := &jobmanager.Restore{Path: "s3://chk/j/chk-7", CheckpointID: 7}
	cases := []struct {
		name    string
		dep     *appsv1.Deployment
		config  string
		restore *jobmanager.Restore
		want    func(c *clusterConfig)
		wantErr string
	}{
		{
			name: "standalone application with savepoint",
			dep: jmDeployment(typeStandalone, "flink:1.17.2-scala_2.12", nil,
				[]string{"standalone-job", "--job-classname", "org.example.Main", "--job-id", "00000000000000000000000000000042", "--jars", "local:///opt/flink/usrlib/app.jar",
					"--fromSavepoint", "s3://sp/1", "--allowNonRestoredState", "--input", "in"}),
			config: "kubernetes.cluster-id: basic\nparallelism.default: 4\ntaskmanager.numberOfTaskSlots: 2\nstate.savepoints.dir: s3://sp\nexecution.checkpointing.interval: 10 s\nscheduler-mode: reactive\n",
			want: func(c *clusterConfig) {
				c.FlinkVersion, c.SlotsPerTaskManager, c.Reactive, c.SavepointDir, c.CheckpointInterval = "1.17.2", 2, true, "s3://sp", 10*time.Second
				c.Adaptive = true // reactive mode runs the adaptive scheduler
				c.Job = jobmanager.JobSpec{JobID: "00000000000000000000000000000042", EntryClass: "org.example.Main", Args: []string{"--input", "in"}, Parallelism: 4,
					Restore: &jobmanager.Restore{Path: "s3://sp/1", IsSavepoint: true, AllowNonRestoredState: true}}
			},
		},
		{
			name: "native application, nested config.yaml, HA checkpoint wins",
			dep:  jmDeployment(typeNative, "flink:1.19", []string{"/docker-entrypoint.sh", "kubernetes-jobmanager.sh", "kubernetes-application"}, nil),
			config: "kubernetes:\n  cluster-id: basic\nhigh-availability:\n  type: kubernetes\n  storageDir: s3://ha\nexecution:\n  savepoint:\n    path: s3://sp/old\n    ignore-unclaimed-state: true\n" +
				"$internal.application.main: org.example.Native\n$internal.application.program-args: a;b\nrest.port: 9091\n",
			restore: ha,
			want: func(c *clusterConfig) {
				c.FlinkVersion, c.Native, c.ha, c.restPort = "1.19", true, true, 9091
				c.Job = jobmanager.JobSpec{JobID: fixedJobID("basic"), EntryClass: "org.example.Native", Args: []string{"a", "b"}, Parallelism: 1, Restore: ha}
			},
		},
		{
			name: "native application, adaptive scheduler, parallelism overrides",
			dep:  jmDeployment(typeNative, "flink:1.20", []string{"kubernetes-jobmanager.sh", "kubernetes-application"}, nil),
			config: "kubernetes.cluster-id: basic\njobmanager.scheduler: Adaptive\nparallelism.default: 4\n$internal.application.main: org.example.Native\n" +
				"pipeline.jobvertex-parallelism-overrides: bc764cd8ddf7a0cff126f51c16239658:4,0a448493b4782967b150582570326227:2\n",
			want: func(c *clusterConfig) {
				c.FlinkVersion, c.Native, c.Adaptive = "1.20", true, true
				c.Job = jobmanager.JobSpec{EntryClass: "org.example.Native", Parallelism: 4,
					ParallelismOverrides: "bc764cd8ddf7a0cff126f51c16239658:4,0a448493b4782967b150582570326227:2"}
			},
		},
		{
			name:   "standalone session",
			dep:    jmDeployment(typeStandalone, "flink:1.18", nil, []string{"jobmanager"}),
			config: "kubernetes.cluster-id: basic\n",
			want: func(c *clusterConfig) {
				c.Application, c.FlinkVersion = false, "1.18"
			},
		},
		{name: "unknown entrypoint", dep: jmDeployment(typeNative, "flink:1.18", []string{"sleep", "1000"}, nil), config: "{}", wantErr: "neither standalone-job"},
		{name: "bad interval", dep: jmDeployment(typeNative, "flink:1.18", []string{"kubernetes-session"}, nil), config: "execution.checkpointing.interval: soon", wantErr: "execution.checkpointing.interval"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conf, err := parseFlinkConfig(tc.config)
			if err != nil {
				t.Fatal(err)
			}
			got, err := buildClusterConfig(tc.dep, conf, tc.restore, Options{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := clusterConfig{Config: jobmanager.Config{ClusterID: "basic", Application: true, SlotsPerTaskManager: 1}, restPort: 8081}
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestFixedJobIDIsJavaHashCode(t *testing.T) {
	for clusterID, want := range map[string]string{
		"basic":     "000000000592d42e000000000592d42e", // "basic".hashCode() = 93508654
		"native-ha": "ffffffffc3e6da6fffffffffc3e6da6f", // -1008280977, sign-extended to long
	} {
		if got := fixedJobID(clusterID); got != want {
			t.Errorf("fixedJobID(%q) = %s, want %s", clusterID, got, want)
		}
	}
}

func TestFlinkDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "60000": time.Minute, "10 s": 10 * time.Second, "1min": time.Minute, "2 minutes": 2 * time.Minute, "500ms": 500 * time.Millisecond, "1 h": time.Hour} {
		if got, err := flinkDuration(in); err != nil || got != want {
			t.Errorf("flinkDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}
