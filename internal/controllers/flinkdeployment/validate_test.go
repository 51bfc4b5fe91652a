package flinkdeployment

import (
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

// TestValidationInputs: everything validation reads of a FlinkDeployment
// changes the digest that lets a reconcile skip it, and what it does not
// read leaves the digest alone.
func TestValidationInputs(t *testing.T) {
	base := func() *v1beta1.FlinkDeployment {
		fd := &v1beta1.FlinkDeployment{}
		fd.UID, fd.Generation = "u1", 3
		fd.Annotations = map[string]string{"a": "1"}
		fd.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"k":"v"}`)}
		fd.Spec.Job = &v1beta1.JobSpec{JarURI: "local:///job.jar"}
		fd.Status.ReconciliationStatus.LastReconciledSpec = `{"job":{}}`
		return fd
	}
	cases := []struct {
		name   string
		change func(*v1beta1.FlinkDeployment)
		same   bool
	}{
		{"nothing", func(*v1beta1.FlinkDeployment) {}, true},
		{"the job state", func(fd *v1beta1.FlinkDeployment) { fd.Status.JobStatus.State = v1beta1.JobRunning }, true},
		{"a label", func(fd *v1beta1.FlinkDeployment) { fd.Labels = map[string]string{"l": "1"} }, true},
		{"the generation", func(fd *v1beta1.FlinkDeployment) { fd.Generation++ }, false},
		{"the merged configuration", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"k":"w"}`)}
		}, false},
		{"no configuration", func(fd *v1beta1.FlinkDeployment) { fd.Spec.FlinkConfiguration = nil }, false},
		{"the resolved initial savepoint", func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.InitialSavepointPath = "s3://sp" }, false},
		{"an annotation's value", func(fd *v1beta1.FlinkDeployment) { fd.Annotations["a"] = "2" }, false},
		{"another annotation", func(fd *v1beta1.FlinkDeployment) { fd.Annotations["b"] = "" }, false},
		{"the last reconciled spec", func(fd *v1beta1.FlinkDeployment) {
			fd.Status.ReconciliationStatus.LastReconciledSpec = `{"job":{"parallelism":2}}`
		}, false},
		{"where a suspended job starts again", func(fd *v1beta1.FlinkDeployment) { fd.Status.JobStatus.UpgradeSavepointPath = "s3://c/chk-4" }, false},
	}
	for _, c := range cases {
		fd := base()
		c.change(fd)
		if got := validationInputs(fd) == validationInputs(base()); got != c.same {
			t.Errorf("%s: same digest %v, want %v", c.name, got, c.same)
		}
	}
	var v validSpecs
	if v.same("u1", validationInputs(base())) {
		t.Error("a FlinkDeployment never validated counts as validated")
	}
	v.m.set("u1", validationInputs(base()))
	if !v.same("u1", validationInputs(base())) || v.same("u2", validationInputs(base())) {
		t.Error("the remembered validation is not found for its own UID alone")
	}
}
