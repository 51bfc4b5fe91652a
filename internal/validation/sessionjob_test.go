package validation

import (
	"strconv"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

func TestValidateSessionJob(t *testing.T) {
	good := func() *v1beta1.FlinkSessionJob {
		return &v1beta1.FlinkSessionJob{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "job"},
			Spec: v1beta1.FlinkSessionJobSpec{DeploymentName: "session", Job: &v1beta1.JobSpec{JarURI: "https://artifacts.example/job.jar", Parallelism: 2}}}
	}
	cases := []struct {
		name   string
		change func(*v1beta1.FlinkSessionJob)
		want   string // "" when valid
	}{
		{"valid", func(*v1beta1.FlinkSessionJob) {}, ""},
		{"kube-system", func(j *v1beta1.FlinkSessionJob) { j.Namespace = "kube-system" }, "metadata.namespace"},
		{"no session cluster", func(j *v1beta1.FlinkSessionJob) { j.Spec.DeploymentName = "" }, "spec.deploymentName: Required value"},
		{"no job", func(j *v1beta1.FlinkSessionJob) { j.Spec.Job = nil }, "spec.job: Required value"},
		{"classpath job without entry class", func(j *v1beta1.FlinkSessionJob) { j.Spec.Job.JarURI = "" }, "spec.job.entryClass: Required value"},
		{"classpath job", func(j *v1beta1.FlinkSessionJob) { j.Spec.Job.JarURI, j.Spec.Job.EntryClass = "", "org.example.Job" }, ""},
		{"local jar", func(j *v1beta1.FlinkSessionJob) {
			j.Spec.Job.JarURI, j.Spec.Job.EntryClass = "local:///opt/flink/usrlib/job.jar", "org.example.Job"
		}, ""},
		{"local jar without entry class", func(j *v1beta1.FlinkSessionJob) { j.Spec.Job.JarURI = "local:///opt/flink/usrlib/job.jar" }, "spec.job.entryClass: Required value"},
		{"local jar with a host", func(j *v1beta1.FlinkSessionJob) {
			j.Spec.Job.JarURI, j.Spec.Job.EntryClass = "local://host/opt/job.jar", "org.example.Job"
		}, "spec.job.jarURI: Invalid value"},
		{"local jar relative", func(j *v1beta1.FlinkSessionJob) {
			j.Spec.Job.JarURI, j.Spec.Job.EntryClass = "local:opt/job.jar", "org.example.Job"
		}, "spec.job.jarURI: Invalid value"},
		{"local jar escaping", func(j *v1beta1.FlinkSessionJob) {
			j.Spec.Job.JarURI, j.Spec.Job.EntryClass = "local:///opt/../etc/job.jar", "org.example.Job"
		}, "spec.job.jarURI: Invalid value"},
		{"local path not a jar", func(j *v1beta1.FlinkSessionJob) {
			j.Spec.Job.JarURI, j.Spec.Job.EntryClass = "local:///etc/passwd", "org.example.Job"
		}, "spec.job.jarURI: Invalid value"},
		{"s3 jar", func(j *v1beta1.FlinkSessionJob) { j.Spec.Job.JarURI = "s3://bucket/job.jar" }, "spec.job.jarURI: Unsupported value"},
		{"unreadable operator setting", func(j *v1beta1.FlinkSessionJob) {
			j.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"kubernetes.operator.job.savepoint-on-deletion":"yes"}`)}
		}, "spec.flinkConfiguration[kubernetes.operator.job.savepoint-on-deletion]"},
		// As upstream's validateJobSpec: a session job has no fixed
		// TaskManagers to set its parallelism, so 0 (unset) is refused too.
		{"negative parallelism", func(j *v1beta1.FlinkSessionJob) { j.Spec.Job.Parallelism = -1 }, "spec.job.parallelism: Invalid value: -1: Job parallelism must be larger than 0"},
		{"parallelism 0", func(j *v1beta1.FlinkSessionJob) { j.Spec.Job.Parallelism = 0 }, "spec.job.parallelism: Invalid value: 0: Job parallelism must be larger than 0"},
		{"parallelism 1", func(j *v1beta1.FlinkSessionJob) { j.Spec.Job.Parallelism = 1 }, ""},
		// As upstream: once submitted, the job stays on its session
		// cluster; before, a wrong name can be corrected.
		{"deploymentName changed after the submission", func(j *v1beta1.FlinkSessionJob) {
			j.Status.ReconciliationStatus.LastReconciledSpec = `{"spec":{"deploymentName":"first-session","job":{}}}`
		}, `spec.deploymentName: Forbidden: The deploymentName can't be changed: the job was submitted to "first-session"`},
		{"deploymentName as submitted", func(j *v1beta1.FlinkSessionJob) {
			j.Status.ReconciliationStatus.LastReconciledSpec = `{"spec":{"deploymentName":"session","job":{}}}`
		}, ""},
		// The hub sends the restore mode with the jar run: one Flink
		// does not know would fail the run.
		{"restore mode", func(j *v1beta1.FlinkSessionJob) {
			j.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"execution.savepoint-restore-mode":"claim","execution.state-recovery.claim-mode":"NO_CLAIM"}`)}
		}, ""},
		{"unknown restore mode", func(j *v1beta1.FlinkSessionJob) {
			j.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"execution.savepoint-restore-mode":"sometimes"}`)}
		}, `spec.flinkConfiguration[execution.savepoint-restore-mode]: Invalid value: "": "sometimes" is not a restore mode: one of CLAIM, NO_CLAIM, LEGACY`},
		{"unknown claim mode", func(j *v1beta1.FlinkSessionJob) {
			j.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"execution.state-recovery.claim-mode":""}`)}
		}, `spec.flinkConfiguration[execution.state-recovery.claim-mode]: Invalid value: "": "" is not a restore mode`},
		{"configuration not a map", func(j *v1beta1.FlinkSessionJob) {
			j.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`[1]`)}
		}, "spec.flinkConfiguration"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			job := good()
			tc.change(job)
			errs := ValidateSessionJob(job)
			switch {
			case tc.want == "" && len(errs) > 0:
				t.Fatalf("refused: %v", errs)
			case tc.want != "" && (len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), tc.want)):
				t.Fatalf("errors %v, want one naming %q", errs, tc.want)
			}
		})
	}
}

// TestJarURIPasswordsNeverQuoted: a jarURI refused for any reason is
// quoted without its userinfo (the rejection reaches the webhook's answer,
// status.error, conditions, events and trace spans), and one that does not
// parse is not quoted at all.
func TestJarURIPasswordsNeverQuoted(t *testing.T) {
	for _, tc := range []struct{ name, uri, want string }{
		{"session job, unsupported scheme", "ftp://deploy:hunter2@artifacts.example.com/job.jar", `spec.job.jarURI: Unsupported value: "ftp://artifacts.example.com/job.jar"`},
		{"session job, unparsable", "https://deploy:hunter2@artifacts.example.com:80a/job.jar", `spec.job.jarURI: Invalid value: "(unparsable URI)"`},
		{"session job, local with userinfo", "local://deploy:hunter2@/opt/job.jar", `spec.job.jarURI: Invalid value: "local:///opt/job.jar"`},
		{"session job, opaque", "ftp:deploy:hunter2@artifacts.example.com", `spec.job.jarURI: Unsupported value: "ftp:(redacted)"`},
		{"deployment, unparsable", "https://deploy:hunter2@artifacts.example.com:80a/job.jar", `spec.job.jarURI: Invalid value: "(unparsable URI)"`},
		{"deployment, no scheme", "//deploy:hunter2@artifacts.example.com/job.jar", `spec.job.jarURI: Invalid value: "//artifacts.example.com/job.jar"`},
		{"deployment, no host", "http://deploy:hunter2@/job.jar", `spec.job.jarURI: Invalid value: "http:///job.jar"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errs error
			if strings.HasPrefix(tc.name, "session job") {
				job := &v1beta1.FlinkSessionJob{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "job"},
					Spec: v1beta1.FlinkSessionJobSpec{DeploymentName: "session", Job: &v1beta1.JobSpec{JarURI: tc.uri, EntryClass: "a.B", Parallelism: 1}}}
				errs = ValidateSessionJob(job).ToAggregate()
			} else {
				fd := valid()
				fd.Spec.Job.JarURI = tc.uri
				errs = Validate(fd, nil).ToAggregate()
			}
			if errs == nil || strings.Contains(errs.Error(), "hunter2") || !strings.Contains(errs.Error(), tc.want) {
				t.Errorf("want an error containing %s and no password, got %v", tc.want, errs)
			}
		})
	}
}

// TestArtifactHeaderValuesNeverQuoted: a user.artifacts.http.header the
// hub cannot send is refused, in a session job's configuration and in its
// session cluster's (which the job reads after its own), naming the
// setting and the header key; the value, a credential, is never quoted
// (the refusal reaches the webhook's answer and status.error).
func TestArtifactHeaderValuesNeverQuoted(t *testing.T) {
	const key = "kubernetes.operator.user.artifacts.http.header"
	for _, tc := range []struct{ name, value, want string }{
		{"CR LF in a value", "Authorization:Bearer hunter2\r\nX-Evil", `header "Authorization": its value holds a control character`},
		{"Host", "Host:hunter2.example", `header "Host" may not be set`},
		{"no colon", "Bearer hunter2", "entry 1 is not key:value"},
	} {
		conf := &apiextensionsv1.JSON{Raw: []byte(`{"` + key + `":` + strconv.Quote(tc.value) + `}`)}
		job := &v1beta1.FlinkSessionJob{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "job"},
			Spec: v1beta1.FlinkSessionJobSpec{DeploymentName: "session", FlinkConfiguration: conf, Job: &v1beta1.JobSpec{JarURI: "https://artifacts.example/job.jar", Parallelism: 1}}}
		session := valid()
		session.Spec.Job, session.Spec.FlinkConfiguration = nil, conf
		for what, errs := range map[string]error{"session job": ValidateSessionJob(job).ToAggregate(), "session cluster": Validate(session, nil).ToAggregate()} {
			if errs == nil || strings.Contains(errs.Error(), "hunter2") || !strings.Contains(errs.Error(), "spec.flinkConfiguration["+key+"]") || !strings.Contains(errs.Error(), tc.want) {
				t.Errorf("%s, %s: want an error naming the setting and saying %s, without the value; got %v", what, tc.name, tc.want, errs)
			}
		}
	}
}

// TestValidateSessionJobOverrides: a session job's parallelism overrides,
// sent to Flink with its submission, are checked as a FlinkDeployment's.
func TestValidateSessionJobOverrides(t *testing.T) {
	for overrides, want := range map[string]string{
		"bc764cd8ddf7a0cff126f51c16239658:4": "",
		"source:4":                           "spec.flinkConfiguration[pipeline.jobvertex-parallelism-overrides]: Invalid value",
		"bc764cd8ddf7a0cff126f51c16239658:0": "spec.flinkConfiguration[pipeline.jobvertex-parallelism-overrides]: Invalid value",
	} {
		job := &v1beta1.FlinkSessionJob{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "job"},
			Spec: v1beta1.FlinkSessionJobSpec{DeploymentName: "session", Job: &v1beta1.JobSpec{JarURI: "https://artifacts.example/job.jar", Parallelism: 2},
				FlinkConfiguration: &apiextensionsv1.JSON{Raw: []byte(`{"pipeline.jobvertex-parallelism-overrides":"` + overrides + `"}`)}}}
		errs := ValidateSessionJob(job)
		switch {
		case want == "" && len(errs) > 0:
			t.Errorf("%s: refused: %v", overrides, errs)
		case want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), want)):
			t.Errorf("%s: errors %v, want one naming %q", overrides, errs, want)
		}
	}
}

// TestValidateSessionJobRedeploy: a new savepointRedeployNonce needs the
// savepoint to start from, for session jobs as for FlinkDeployments (as
// upstream's validateSpecChange).
func TestValidateSessionJobRedeploy(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nonce *int64
		path  string
		want  string
	}{
		{"same nonce", ptr.To[int64](1), "", ""},
		{"new nonce with a path", ptr.To[int64](2), "file:///sp/1", ""},
		{"new nonce without a path", ptr.To[int64](2), " ", "spec.job.initialSavepointPath: Required value"},
		// Unsetting it redeploys nothing (upstream's onNullIgnore).
		{"nonce unset", nil, "", ""},
	} {
		job := &v1beta1.FlinkSessionJob{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "job"},
			Spec: v1beta1.FlinkSessionJobSpec{DeploymentName: "session", Job: &v1beta1.JobSpec{JarURI: "https://artifacts.example/job.jar", Parallelism: 2,
				SavepointRedeployNonce: tc.nonce, InitialSavepointPath: tc.path}}}
		job.Status.ReconciliationStatus.LastReconciledSpec = `{"spec":{"deploymentName":"session","job":{"savepointRedeployNonce":1}}}`
		errs := ValidateSessionJob(job)
		switch {
		case tc.want == "" && len(errs) > 0:
			t.Errorf("%s: refused: %v", tc.name, errs)
		case tc.want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want)):
			t.Errorf("%s: errors %v, want one naming %q", tc.name, errs, tc.want)
		}
	}
}
