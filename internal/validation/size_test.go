package validation

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

// TestSizeLimits: a spec whose member objects would be over the
// apiserver's limits is refused with the field and the sizes; one just
// under them is not.
func TestSizeLimits(t *testing.T) {
	for _, tc := range sizeCases() {
		t.Run(tc.name, func(t *testing.T) { checkSizeCase(t, tc) })
	}
}

// sizeCase is a change to valid() and the substrings of the error it must
// give; none means valid.
type sizeCase struct {
	name   string
	mutate func(*v1beta1.FlinkDeployment)
	want   []string // substrings of the error; none means valid
}

func sizeCases() []sizeCase {
	return []sizeCase{
		{"configuration under 1 MiB", sizedConf(kib(300)), nil},
		{"configuration over 1 MiB", sizedConf(kib(1100)), []string{"spec.flinkConfiguration", "configuration ConfigMap would hold", "1032192 bytes"}},
		{"log configuration over 1 MiB", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.LogConfiguration = map[string]string{"log4j-console.properties": kib(1030)}
		}, []string{"spec.logConfiguration", "logConfiguration 1054744"}},
		{"configuration and logs together over 1 MiB", func(fd *v1beta1.FlinkDeployment) {
			sizedConf(kib(500))(fd)
			fd.Spec.LogConfiguration = map[string]string{"log4j-console.properties": kib(520)}
		}, []string{"spec.logConfiguration", "configuration ConfigMap"}},
		{"native TaskManager pod template over 1 MiB", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.TaskManager.PodTemplate = podWithEnv(1030)
		}, []string{"spec.taskManager.podTemplate", "configuration ConfigMap would hold", "TaskManager pod template 10"}},
		{"common pod template over 1 MiB", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.PodTemplate = podWithEnv(1030)
		}, []string{"spec.podTemplate", "configuration ConfigMap would hold"}},
		{"native configuration and TaskManager pod template together over 1 MiB", func(fd *v1beta1.FlinkDeployment) {
			sizedConf(kib(600))(fd)
			fd.Spec.TaskManager.PodTemplate = podWithEnv(500)
		}, []string{"spec.flinkConfiguration", "configuration ConfigMap would hold", "TaskManager pod template 51"}},
		{"standalone TaskManager pod template of 1.2 MiB fits its Deployment", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Mode = v1beta1.ModeStandalone
			fd.Spec.Job = nil
			fd.Spec.TaskManager.PodTemplate = podWithEnv(450)
		}, nil},
		{"pod annotations over 256 KiB", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.JobManager.PodTemplate = annotatedPod(250)
		}, []string{"spec.jobManager.podTemplate.metadata.annotations", "256015 bytes", "245760"}},
		{"common and TaskManager annotations together over 256 KiB", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.PodTemplate = annotatedPod(100)
			fd.Spec.TaskManager.PodTemplate = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"example.com/other": kib(150)}}}
		}, []string{"spec.taskManager.podTemplate.metadata.annotations", "pods' annotations would hold"}},
		{"pod annotations under 256 KiB", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.PodTemplate = annotatedPod(200)
		}, nil},
		{"ingress annotations over 256 KiB", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Ingress = &v1beta1.IngressSpec{Template: "flink.example.com/{{name}}", Annotations: map[string]string{"a": kib(250)}}
		}, []string{"spec.ingress.annotations"}},
		{"spec kept three times over 1.5 MiB", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.JobManager.PodTemplate = podWithEnv(300)
			fd.Spec.TaskManager.PodTemplate = podWithEnv(300)
		}, []string{"spec: Too long", "keeps it 3 times", "lastStableSpec"}},
	}
}

// kib is a value of n KiB.
func kib(n int) string { return strings.Repeat("x", n<<10) }

// sizedConf sets valid()'s configuration with env.java.opts.all of value.
func sizedConf(value string) func(*v1beta1.FlinkDeployment) {
	return func(fd *v1beta1.FlinkDeployment) {
		raw, _ := json.Marshal(map[string]string{"state.checkpoints.dir": "s3://c", "state.savepoints.dir": "s3://s", "high-availability.type": "kubernetes", "env.java.opts.all": value})
		fd.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: raw}
	}
}

// annotatedPod is a pod template with an annotation of n KiB.
func annotatedPod(n int) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"example.com/big": kib(n)}}}
}

// podWithEnv is a pod template whose main container has an environment
// variable of n KiB.
func podWithEnv(n int) *corev1.Pod {
	return &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "flink-main-container", Env: []corev1.EnvVar{{Name: "BIG", Value: kib(n)}}}}}}
}

// checkSizeCase validates valid() changed by tc: refused with tc's
// substrings, without repeating the value, or valid.
func checkSizeCase(t *testing.T, tc sizeCase) {
	fd := valid()
	tc.mutate(fd)
	errs := Validate(fd, nil)
	got := ""
	if len(errs) > 0 {
		got = errs.ToAggregate().Error()
	}
	if len(tc.want) == 0 {
		if got != "" {
			t.Fatalf("refused: %s", got)
		}
		return
	}
	for _, w := range tc.want {
		if !strings.Contains(got, w) {
			t.Fatalf("error %q lacks %q", trim(got), w)
		}
	}
	if strings.Contains(got, "xxxxxxxx") {
		t.Fatalf("the error repeats the value: %s", trim(got))
	}
}

func trim(s string) string {
	if len(s) > 600 {
		return s[:600] + "..."
	}
	return s
}
