package validation

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
)

func TestUpstreamExamplesAreValid(t *testing.T) {
	all, err := examples.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range all {
		if ex.Typed.Namespace == "" {
			ex.Typed.Namespace = "default" // as applied; the webhook sets the request's
		}
		if errs := Validate(ex.Typed, nil); len(errs) > 0 {
			t.Errorf("%s: %v", ex.Name, errs.ToAggregate())
		}
	}
}

func valid() *v1beta1.FlinkDeployment {
	return &v1beta1.FlinkDeployment{
		ObjectMeta: metav1.ObjectMeta{Name: "wordcount", Namespace: "team-a"},
		Spec: v1beta1.FlinkDeploymentSpec{
			Image: "flink:2.2", FlinkVersion: "v2_2", ServiceAccount: ptr.To("flink"),
			FlinkConfiguration: &apiextensionsv1.JSON{Raw: []byte(`{"state.checkpoints.dir": "s3://c", "state.savepoints.dir": "s3://s", "high-availability.type": "kubernetes"}`)},
			JobManager:         &v1beta1.JobManagerSpec{Resource: &v1beta1.Resource{Memory: "1g", CPU: ptr.To(1.0)}},
			TaskManager:        &v1beta1.TaskManagerSpec{Resource: &v1beta1.Resource{Memory: "2g", CPU: ptr.To(1.0)}},
			Job:                &v1beta1.JobSpec{JarURI: "local:///opt/flink/job.jar", Parallelism: 2, UpgradeMode: v1beta1.UpgradeModeSavepoint},
		},
	}
}

// withSettings sets valid()'s configuration plus the given JSON members.
func withSettings(members string) func(*v1beta1.FlinkDeployment) {
	return func(fd *v1beta1.FlinkDeployment) {
		fd.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"state.checkpoints.dir": "s3://c", "state.savepoints.dir": "s3://s", "high-availability.type": "kubernetes", ` + members + `}`)}
	}
}

func TestValidate(t *testing.T) {
	cases := slices.Concat(metadataCases(), configurationCases(), jobAndResourceCases(), previousSpecCases(), operatorSettingCases(), restServiceCases(), ingressCases(), upstreamCases())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fd := valid()
			var prev *v1beta1.FlinkDeploymentSpec
			if tc.previous != nil {
				prev = valid().Spec.DeepCopy()
				tc.previous(prev)
			}
			if tc.mutate != nil {
				tc.mutate(fd)
			}
			errs := Validate(fd, prev)
			if tc.want == "" {
				if len(errs) > 0 {
					t.Fatalf("want valid, got %v", errs.ToAggregate())
				}
				return
			}
			if len(errs) == 0 || !strings.Contains(errs.ToAggregate().Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, errs.ToAggregate())
			}
		})
	}
}

// validateCase is a change to valid() and to its spec as the previous
// one (nil: none), and what Validate must say ("" means valid).
type validateCase struct {
	name     string
	mutate   func(*v1beta1.FlinkDeployment)
	previous func(*v1beta1.FlinkDeploymentSpec)
	want     string // "" means valid
}

// jsonConf is a flinkConfiguration of JSON s.
func jsonConf(s string) *apiextensionsv1.JSON { return &apiextensionsv1.JSON{Raw: []byte(s)} }

// metadataCases: the name, namespace and annotations, and the spec's
// required fields.
func metadataCases() []validateCase {
	return []validateCase{
		{"valid", nil, nil, ""},
		{"name too long", func(fd *v1beta1.FlinkDeployment) { fd.Name = strings.Repeat("a", 46) }, nil, "metadata.name"},
		{"name 45 long", func(fd *v1beta1.FlinkDeployment) { fd.Name = strings.Repeat("a", 45) }, nil, ""},
		{"in kube-system", func(fd *v1beta1.FlinkDeployment) { fd.Namespace = "kube-system" }, nil, "metadata.namespace: Forbidden: " + NamespaceRefusal},
		{"in kube-public", func(fd *v1beta1.FlinkDeployment) { fd.Namespace = "kube-public" }, nil, ""},
		{"name with capitals", func(fd *v1beta1.FlinkDeployment) { fd.Name = "WordCount" }, nil, "metadata.name"},
		{"name starting with a digit", func(fd *v1beta1.FlinkDeployment) { fd.Name = "1st" }, nil, "metadata.name"},
		{"no flink version", func(fd *v1beta1.FlinkDeployment) { fd.Spec.FlinkVersion = "" }, nil, "spec.flinkVersion"},
		{"removed rest-transport annotation", func(fd *v1beta1.FlinkDeployment) {
			fd.Annotations = map[string]string{"flink-hub.io/rest-transport": "url"}
		}, nil, "metadata.annotations[flink-hub.io/rest-transport]: Forbidden: no longer supported"},
		{"removed rest-url-template annotation", func(fd *v1beta1.FlinkDeployment) {
			fd.Annotations = map[string]string{"flink-hub.io/rest-url-template": "http://{{range 3}}{{end}}evil.example.com"}
		}, nil, "metadata.annotations[flink-hub.io/rest-url-template]: Forbidden: no longer supported"},
		{"other annotations", func(fd *v1beta1.FlinkDeployment) {
			fd.Annotations = map[string]string{"flink-hub.io/team": "a", "example.com/rest-transport": "url"}
		}, nil, ""},
		{"no service account", func(fd *v1beta1.FlinkDeployment) { fd.Spec.ServiceAccount = nil }, nil, "spec.serviceAccount: Required value"},
	}
}

// configurationCases: keys the operator owns and the log configuration.
func configurationCases() []validateCase {
	return []validateCase{
		{"forbidden namespace key", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.FlinkConfiguration = jsonConf(`{"kubernetes.namespace": "other", "state.checkpoints.dir": "s3://c", "state.savepoints.dir": "s3://s"}`)
		}, nil, "spec.flinkConfiguration[kubernetes.namespace]: Forbidden"},
		{"forbidden cluster id in nested YAML", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.FlinkConfiguration = jsonConf(`{"kubernetes": {"cluster-id": "x"}, "state.checkpoints.dir": "s3://c", "state.savepoints.dir": "s3://s"}`)
		}, nil, "spec.flinkConfiguration[kubernetes.cluster-id]"},
		{"forbidden HA cluster id", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.FlinkConfiguration = jsonConf(`{"high-availability.cluster-id": "x", "state.checkpoints.dir": "s3://c", "state.savepoints.dir": "s3://s"}`)
		}, nil, "high-availability.cluster-id"},
		{"savepoint path key with a trailing space", withSettings(`"execution.savepoint.path ": "s3://attacker"`), nil,
			`spec.flinkConfiguration: Invalid value: "execution.savepoint.path ": configuration key "execution.savepoint.path " starts or ends with white space or a control character; Flink would read it as "execution.savepoint.path"`},
		{"cluster id key with a tab", withSettings(`"kubernetes.cluster-id\t": "victim"`), nil, "spec.flinkConfiguration[kubernetes.cluster-id]: Forbidden: set by the operator"},
		{"namespace key with a no-break space", withSettings("\"\u00a0kubernetes.namespace\": \"other\""), nil, "spec.flinkConfiguration[kubernetes.namespace]: Forbidden: set by the operator"},
		{"HA cluster id key with a control character", withSettings(`"high-availability.cluster-id\u0001": "victim"`), nil, `Invalid value: "high-availability.cluster-id\x01"`},
		{"configuration not a map", func(fd *v1beta1.FlinkDeployment) { fd.Spec.FlinkConfiguration = jsonConf(`[1]`) }, nil, "spec.flinkConfiguration"},
		{"unknown log file", func(fd *v1beta1.FlinkDeployment) { fd.Spec.LogConfiguration = map[string]string{"log4j.xml": "x"} }, nil, "spec.logConfiguration[log4j.xml]"},
		{"toleration typo", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.FlinkConfiguration = jsonConf(`{"kubernetes.taskmanager.tolerations": "key:a,efect:NoSchedule"}`)
		}, nil, `kubernetes.taskmanager.tolerations: "efect" is not a toleration field`},
		{"limit factor below 1", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.FlinkConfiguration = jsonConf(`{"kubernetes.jobmanager.memory.limit-factor": "0.8"}`)
		}, nil, "kubernetes.jobmanager.memory.limit-factor: 0.8 is below 1"},
		{"standby JobManagers by configuration without HA", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.FlinkConfiguration = jsonConf(`{"kubernetes.jobmanager.replicas": "2"}`)
		}, nil, "spec.flinkConfiguration[kubernetes.jobmanager.replicas]: Invalid value: \"2\": standby JobManagers need high availability"},
		{"memory limit below request", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.TaskManager.Resources = &v1beta1.ResourceRequirements{
				Requests: map[corev1.ResourceName]intstr.IntOrString{corev1.ResourceMemory: intstr.FromString("2Gi")},
				Limits:   map[corev1.ResourceName]intstr.IntOrString{corev1.ResourceMemory: intstr.FromString("1Gi")},
			}
		}, nil, "spec.taskManager.resources.limits[memory]: Invalid value: \"1Gi\": below the request 2Gi"},
	}
}

// jobAndResourceCases: the jar, parallelism, replicas, memory, upgrade
// mode and ingress.
func jobAndResourceCases() []validateCase {
	return []validateCase{
		{"jar without scheme", func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.JarURI = "/opt/flink/job.jar" }, nil, "spec.job.jarURI"},
		{"jar with unknown scheme", func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.JarURI = "ftp://host/job.jar" }, nil, "spec.job.jarURI: Unsupported value"},
		{"http jar without host", func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.JarURI = "http:///job.jar" }, nil, "spec.job.jarURI"},
		{"no jar at all is fine", func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.JarURI = "" }, nil, ""},
		{"parallelism zero", func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.Parallelism = 0 }, nil, "spec.job.parallelism"},
		{"parallelism zero with fixed taskmanagers", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.Parallelism = 0
			fd.Spec.TaskManager.Replicas = ptr.To[int32](2)
		}, nil, ""},
		{"taskmanager replicas zero", func(fd *v1beta1.FlinkDeployment) { fd.Spec.TaskManager.Replicas = ptr.To[int32](0) }, nil, "spec.taskManager.replicas"},
		{"standby jobmanagers without HA", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.JobManager.Replicas = 2
			fd.Spec.FlinkConfiguration = jsonConf(`{"state.checkpoints.dir": "s3://c", "state.savepoints.dir": "s3://s"}`)
		}, nil, "spec.jobManager.replicas"},
		{"no jobmanager memory", func(fd *v1beta1.FlinkDeployment) { fd.Spec.JobManager.Resource.Memory = "" }, nil, "spec.jobManager.resource.memory: Required"},
		{"bad taskmanager ephemeral storage", func(fd *v1beta1.FlinkDeployment) { fd.Spec.TaskManager.Resource.EphemeralStorage = "lots" }, nil,
			`spec.taskManager.resource.ephemeralStorage: Invalid value: "lots": TaskManager resource ephemeral storage parse error: quantities must match the regular expression`},
		{"negative jobmanager ephemeral storage", func(fd *v1beta1.FlinkDeployment) { fd.Spec.JobManager.Resource.EphemeralStorage = "-1Gi" }, nil,
			`spec.jobManager.resource.ephemeralStorage: Invalid value: "-1Gi": JobManager resource ephemeral storage parse error: must not be negative`},
		{"ephemeral storage", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.JobManager.Resource.EphemeralStorage = "10Gi"
			fd.Spec.TaskManager.Resource.EphemeralStorage = "500M"
		}, nil, ""},
		{"bad taskmanager memory", func(fd *v1beta1.FlinkDeployment) { fd.Spec.TaskManager.Resource.Memory = "plenty" }, nil, "spec.taskManager.resource.memory: Invalid"},
		// As upstream since FLINK-35414: by cancellation, from the latest
		// checkpoint.
		{"last-state without HA", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeLastState
			fd.Spec.FlinkConfiguration = jsonConf(`{"state.checkpoints.dir": "s3://c"}`)
		}, nil, ""},
		{"last-state without HA nor checkpoint dir", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeLastState
			fd.Spec.FlinkConfiguration = jsonConf(`{}`)
		}, nil, "spec.flinkConfiguration[state.checkpoints.dir]: Required value: last-state upgrades need a checkpoint directory"},
		{"savepoint mode without savepoint dir", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.FlinkConfiguration = jsonConf(`{"state.checkpoints.dir": "s3://c"}`)
		}, nil, "spec.flinkConfiguration[state.savepoints.dir]: Required"},
		{"blank checkpoint and savepoint dirs", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.FlinkConfiguration = jsonConf(`{"state.checkpoints.dir": " ", "state.savepoints.dir": "\t", "high-availability.type": "kubernetes"}`)
		}, nil, "[spec.flinkConfiguration[state.checkpoints.dir]: Required value: savepoint upgrades need a checkpoint directory, spec.flinkConfiguration[state.savepoints.dir]: Required value: savepoint upgrades"},
		{"last-state with a blank checkpoint dir", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeLastState
			fd.Spec.FlinkConfiguration = jsonConf(`{"state.checkpoints.dir": "  ", "state.savepoints.dir": "s3://s", "high-availability.type": "kubernetes"}`)
		}, nil, "spec.flinkConfiguration[state.checkpoints.dir]: Required value: last-state upgrades need a checkpoint directory"},
		{"manual savepoint with a blank savepoint dir", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeStateless
			fd.Spec.Job.SavepointTriggerNonce = ptr.To[int64](1)
			fd.Spec.FlinkConfiguration = jsonConf(`{"state.savepoints.dir": " "}`)
		}, nil, "spec.flinkConfiguration[state.savepoints.dir]: Required value: manual savepoints need a savepoint directory"},
		{"savepoint mode with Flink 1.20's directory keys", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.FlinkConfiguration = jsonConf(`{"execution.checkpointing.dir": "s3://c", "execution.checkpointing.savepoint-dir": "s3://s", "high-availability.type": "kubernetes"}`)
		}, nil, ""},
		{"last-state with Flink 1.20's checkpoint key", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeLastState
			fd.Spec.FlinkConfiguration = jsonConf(`{"execution.checkpointing.dir": "s3://c", "high-availability.type": "kubernetes"}`)
		}, nil, ""},
		{"manual, periodic savepoints and max checkpoint age with Flink 1.20's savepoint key", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeStateless
			fd.Spec.Job.SavepointTriggerNonce = ptr.To[int64](1)
			fd.Spec.FlinkConfiguration = jsonConf(`{"execution.checkpointing.savepoint-dir": "s3://s", "kubernetes.operator.periodic.savepoint.interval": "1h",
				"kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age": "5m"}`)
		}, nil, ""},
		{"a blank Flink 1.20 savepoint key and no other", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.FlinkConfiguration = jsonConf(`{"execution.checkpointing.dir": "s3://c", "execution.checkpointing.savepoint-dir": " ", "high-availability.type": "kubernetes"}`)
		}, nil, "spec.flinkConfiguration[state.savepoints.dir]: Required value: savepoint upgrades need a savepoint directory"},
		{"ingress without template", func(fd *v1beta1.FlinkDeployment) { fd.Spec.Ingress = &v1beta1.IngressSpec{ClassName: "nginx"} }, nil, "spec.ingress.template"},
	}
}

// ingressCases: templates that make a URL with a host an Ingress rule
// takes are accepted, as upstream reads them; the others are refused.
func ingressCases() []validateCase {
	cases := []validateCase{}
	for _, tpl := range []string{"{{name}}.example.com", "{{NAME}}.{{Namespace}}.example.com", "flink.example.com:8443/{{namespace}}/{{name}}",
		"https://*.example.com/{{name}}", "/{{namespace}}/{{name}}(/|$)(.*)", "user@flink.example.com/x?y#z"} {
		cases = append(cases, validateCase{"ingress " + tpl, withIngress(tpl), nil, ""})
	}
	for _, tc := range []struct{ tpl, want string }{
		{"{{name}}.example.com:abc/x", `invalid port ":abc"`},
		{"10.0.0.1/{{name}}", `host "10.0.0.1" is an IP address`},
		{"[::1]:8080/{{name}}", `host "::1" is an IP address`},
		{"{{name}}.Example.com", `host "wordcount.Example.com": a lowercase RFC 1123 subdomain`},
		{"flink example.com/{{name}}", `invalid character " " in host name`},
		{"{{name}}_x.example.com", `host "wordcount_x.example.com"`},
	} {
		cases = append(cases, validateCase{"ingress " + tc.tpl, withIngress(tc.tpl), nil,
			"spec.ingress.template: Invalid value: " + strconv.Quote(tc.tpl) + ": Unable to process the Ingress template: "})
		cases = append(cases, validateCase{"ingress " + tc.tpl + " says why", withIngress(tc.tpl), nil, tc.want})
	}
	return cases
}

// withIngress sets spec.ingress.template to tpl.
func withIngress(tpl string) func(*v1beta1.FlinkDeployment) {
	return func(fd *v1beta1.FlinkDeployment) { fd.Spec.Ingress = &v1beta1.IngressSpec{Template: tpl} }
}

// previousSpecCases: changes from the previous spec.
func previousSpecCases() []validateCase {
	return []validateCase{
		{"session to application", nil, func(prev *v1beta1.FlinkDeploymentSpec) { prev.Job = nil }, "spec.job: Forbidden"},
		{"application to session", func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job = nil }, func(*v1beta1.FlinkDeploymentSpec) {}, "spec.job: Forbidden"},
		{"native to standalone", func(fd *v1beta1.FlinkDeployment) { fd.Spec.Mode = v1beta1.ModeStandalone }, func(*v1beta1.FlinkDeploymentSpec) {}, "spec.mode: Forbidden"},
		{"unchanged previous", nil, func(*v1beta1.FlinkDeploymentSpec) {}, ""},
		{"savepoint redeploy without path", func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.SavepointRedeployNonce = ptr.To[int64](1) }, func(*v1beta1.FlinkDeploymentSpec) {}, "spec.job.initialSavepointPath"},
		{"flinkVersion changed after a last-state suspend", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeLastState
		}, suspendedLastState("v1_20"), "spec.flinkVersion: Forbidden: Changing flinkVersion after last-state suspend is not allowed. Restore your cluster with the current flinkVersion and perform the version upgrade afterwards."},
		{"flinkVersion changed after a last-state suspend, savepoint mode now", nil, suspendedLastState("v1_20"), "Changing flinkVersion after last-state suspend is not allowed"},
		{"flinkVersion changed after a last-state suspend, stateless now", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeStateless
		}, suspendedLastState("v1_20"), ""},
		{"flinkVersion kept after a last-state suspend", nil, suspendedLastState("v2_2"), ""},
		{"flinkVersion changed after a last-state suspend by cancellation (no HA)", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeLastState
			fd.Status.JobStatus.UpgradeSavepointPath = "s3://c/job/chk-4"
		}, suspendedLastState("v1_20"), ""},
		{"flinkVersion changed after a savepoint suspend", nil, func(prev *v1beta1.FlinkDeploymentSpec) {
			prev.FlinkVersion, prev.Job.State = "v1_20", v1beta1.JobStateSuspended
		}, ""},
		{"flinkVersion changed while running last-state", nil, func(prev *v1beta1.FlinkDeploymentSpec) {
			prev.FlinkVersion, prev.Job.UpgradeMode = "v1_20", v1beta1.UpgradeModeLastState
		}, ""},
		{"savepoint redeploy with a blank path", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.SavepointRedeployNonce = ptr.To[int64](2)
			fd.Spec.Job.InitialSavepointPath = "  "
		}, func(prev *v1beta1.FlinkDeploymentSpec) { prev.Job.SavepointRedeployNonce = ptr.To[int64](1) }, "spec.job.initialSavepointPath: Required"},
		// Unsetting the nonce redeploys nothing (upstream's onNullIgnore).
		{"savepoint redeploy nonce unset", nil, func(prev *v1beta1.FlinkDeploymentSpec) { prev.Job.SavepointRedeployNonce = ptr.To[int64](1) }, ""},
	}
}

// suspendedLastState makes the previous spec a job suspended with
// last-state on Flink version.
func suspendedLastState(version v1beta1.FlinkVersion) func(*v1beta1.FlinkDeploymentSpec) {
	return func(prev *v1beta1.FlinkDeploymentSpec) {
		prev.FlinkVersion, prev.Job.UpgradeMode, prev.Job.State = version, v1beta1.UpgradeModeLastState, v1beta1.JobStateSuspended
	}
}

// operatorSettingCases: the operator settings of the configuration.
func operatorSettingCases() []validateCase {
	return []validateCase{
		{"operator settings as Flink reads them", withSettings(`"kubernetes.operator.periodic.savepoint.interval": "6 h", "kubernetes.operator.periodic.checkpoint.interval": "10min",
			"kubernetes.operator.savepoint.history.max.age": "1 d", "kubernetes.operator.savepoint.history.max.count": "0", "kubernetes.operator.savepoint.format.type": "native",
			"kubernetes.operator.checkpoint.type": "INCREMENTAL", "kubernetes.operator.deployment.rollback.enabled": "TRUE", "kubernetes.operator.job.restart.failed": "false",
			"kubernetes.operator.deployment.readiness.timeout": "10 min"`), nil, ""},
		{"unreadable readiness timeout", withSettings(`"kubernetes.operator.deployment.readiness.timeout": "soon"`), nil, "kubernetes.operator.deployment.readiness.timeout]: Invalid value"},
		{"unreadable periodic interval", withSettings(`"kubernetes.operator.periodic.savepoint.interval": "1h30m"`), nil,
			`spec.flinkConfiguration[kubernetes.operator.periodic.savepoint.interval]: Invalid value: "1h30m": duration "1h30m": unknown time unit "h30m"`},
		{"cron schedule", withSettings(`"kubernetes.operator.periodic.checkpoint.interval": "0 0 * * * ?"`), nil, "cron schedules are not supported by flink-hub"},
		{"not a boolean", withSettings(`"kubernetes.operator.job.restart.failed": "yes"`), nil, `kubernetes.operator.job.restart.failed]: Invalid value: "yes": "yes" is neither true nor false`},
		{"negative history count", withSettings(`"kubernetes.operator.savepoint.history.max.count": "-1"`), nil, "kubernetes.operator.savepoint.history.max.count"},
		{"unknown savepoint format", withSettings(`"kubernetes.operator.savepoint.format.type": "COMPACT"`), nil, `"COMPACT" is not one of CANONICAL, NATIVE`},
		{"settings the hub does not read are not checked", withSettings(`"kubernetes.operator.some.future.option": "anything"`), nil, ""},
		{"rollback without HA", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.FlinkConfiguration = jsonConf(`{"state.checkpoints.dir": "s3://c", "state.savepoints.dir": "s3://s", "kubernetes.operator.deployment.rollback.enabled": "true"}`)
		}, nil, "rollbacks need high availability"},
		{"periodic savepoints without savepoint dir", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeStateless
			fd.Spec.FlinkConfiguration = jsonConf(`{"kubernetes.operator.periodic.savepoint.interval": "1h"}`)
		}, nil, "periodic savepoints need a savepoint directory"},
		{"max checkpoint age without savepoint dir", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeLastState
			fd.Spec.FlinkConfiguration = jsonConf(`{"state.checkpoints.dir": "s3://c", "high-availability.type": "kubernetes", "kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age": "5m"}`)
		}, nil, "spec.flinkConfiguration[state.savepoints.dir]: Required value: In order to use max-checkpoint age functionality config key[state.savepoints.dir] must be set"},
		{"max checkpoint age with savepoint dir", withSettings(`"kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age": "5m"`), nil, ""},
		{"in-place scaling not a boolean", withSettings(`"kubernetes.operator.job.upgrade.inplace-scaling.enabled": "on"`), nil, `inplace-scaling.enabled]: Invalid value: "on"`},
		{"parallelism overrides", withSettings(`"pipeline.jobvertex-parallelism-overrides": "bc764cd8ddf7a0cff126f51c16239658:4, 0a448493b4782967b150582570326227 : 2"`), nil, ""},
		// Flink looks the overrides up by the ids as it writes them: an
		// upper-case one would do nothing.
		{"override of a vertex id in upper case", withSettings(`"pipeline.jobvertex-parallelism-overrides": "0A448493B4782967B150582570326227:2"`), nil,
			"job vertex id 0A448493B4782967B150582570326227 is not in lower case"},
		// Flink cannot read a map whose key repeats: the job would not start.
		{"override of a vertex given twice", withSettings(`"pipeline.jobvertex-parallelism-overrides": "bc764cd8ddf7a0cff126f51c16239658:4,bc764cd8ddf7a0cff126f51c16239658:2"`), nil,
			"job vertex bc764cd8ddf7a0cff126f51c16239658 is given twice"},
		{"override of a vertex id that is not one", withSettings(`"pipeline.jobvertex-parallelism-overrides": "../../jobs:4"`), nil,
			`spec.flinkConfiguration[pipeline.jobvertex-parallelism-overrides]: Invalid value: "../../jobs:4": "../../jobs" is not a job vertex id (32 hexadecimal digits)`},
		{"override of no parallelism", withSettings(`"pipeline.jobvertex-parallelism-overrides": "bc764cd8ddf7a0cff126f51c16239658:0"`), nil, "is not a whole number from 1 to 32768"},
		{"override of a parallelism that is not a number", withSettings(`"pipeline.jobvertex-parallelism-overrides": "bc764cd8ddf7a0cff126f51c16239658:4x"`), nil, "is not a whole number from 1 to 32768"},
		{"override over the largest parallelism", withSettings(`"pipeline.jobvertex-parallelism-overrides": "bc764cd8ddf7a0cff126f51c16239658:40000"`), nil, "is not a whole number from 1 to 32768"},
		{"overrides not a map", withSettings(`"pipeline.jobvertex-parallelism-overrides": "bc764cd8ddf7a0cff126f51c16239658"`), nil, "is not key:value"},
	}
}

// TestHostileQuantitiesRefused: valid() with a podTemplate quantity whose
// exponent would stall decoding, spelled in any way the decode trims or
// unescapes, decodes at once and is refused naming the quantity.
func TestHostileQuantitiesRefused(t *testing.T) {
	for _, tc := range []struct{ name, quantity, want string }{
		{"plain", `"9e3372036854775807"`, `"9e3372036854775807"`},
		{"ASCII spaces", `"  9e3372036854775807 "`, `"  9e3372036854775807 "`},
		{"no-break space", "\"\u00a09e3372036854775807\"", `"\u00a09e3372036854775807"`},
		{"ideographic space", "\"9e3372036854775807\u3000\"", `"9e3372036854775807\u3000"`},
		{"escaped digit", `"\u0039e3372036854775807"`, `"9e3372036854775807"`},
		{"escaped tab", `"\t9e3372036854775807"`, `"\t9e3372036854775807"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := json.Marshal(valid())
			if err != nil {
				t.Fatal(err)
			}
			doc := strings.Replace(string(raw), `"spec":{`, `"spec":{"podTemplate":{"spec":{"containers":[{"name":"flink-main-container",`+
				`"resources":{"limits":{"memory":`+tc.quantity+`}}}]}},`, 1)
			done := make(chan *v1beta1.FlinkDeployment, 1)
			go func() {
				fd := &v1beta1.FlinkDeployment{}
				if err := json.Unmarshal([]byte(doc), fd); err != nil {
					t.Error(err)
				}
				done <- fd
			}()
			select {
			case fd := <-done:
				want := "spec: Invalid value: " + strconv.Quote(tc.want) + ": quantities with an exponent of three digits or more are refused"
				if got := Validate(fd, nil).ToAggregate(); got == nil || !strings.Contains(got.Error(), want) {
					t.Errorf("want an error containing %s, got %v", want, got)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("decoding did not return")
			}
		})
	}
}

// restServiceCases: kubernetes.rest-service.exposed.type takes Flink's
// values in any case, and nothing else (the apiserver would refuse the
// Service).
func restServiceCases() []validateCase {
	var cases []validateCase
	for _, v := range []string{"ClusterIP", "NodePort", "LoadBalancer", "Headless_ClusterIP", "headless_clusterip", "nodeport", "LOADBALANCER"} {
		cases = append(cases, validateCase{"REST Service type " + v, withSettings(`"kubernetes.rest-service.exposed.type": "` + v + `"`), nil, ""})
	}
	for _, v := range []string{"ExternalName", "Headless", "Cluster IP"} {
		cases = append(cases, validateCase{"REST Service type " + v, withSettings(`"kubernetes.rest-service.exposed.type": "` + v + `"`), nil,
			`spec.flinkConfiguration[kubernetes.rest-service.exposed.type]: Invalid value: "` + v + `": must be one of ClusterIP, NodePort, LoadBalancer, Headless_ClusterIP (in any case), as Flink reads it`})
	}
	return cases
}

// upstreamCases: specs upstream's validator (DefaultValidator) accepts or
// refuses where an earlier flink-hub decided otherwise; each case names
// upstream's rule.
func upstreamCases() []validateCase {
	return []validateCase{
		// validateFlinkVersion: FlinkVersion.isSupported is v1_15 and newer.
		{"Flink 1.13", func(fd *v1beta1.FlinkDeployment) { fd.Spec.FlinkVersion = "v1_13" }, nil,
			`spec.flinkVersion: Invalid value: "v1_13": Flink version v1_13 is not supported by this operator version; use v1_15 or newer`},
		{"Flink 1.14", func(fd *v1beta1.FlinkDeployment) { fd.Spec.FlinkVersion = "v1_14" }, nil, "Flink version v1_14 is not supported"},
		{"Flink 1.15, deprecated but supported", func(fd *v1beta1.FlinkDeployment) { fd.Spec.FlinkVersion = "v1_15" }, nil, ""},
		{"Flink 2.4", func(fd *v1beta1.FlinkDeployment) { fd.Spec.FlinkVersion = "v2_4" }, nil, ""},
		// validateFlinkDeploymentConfig: the health check needs deployment
		// recovery (on by default).
		{"health check without deployment recovery", withSettings(`"kubernetes.operator.cluster.health-check.enabled": "true", "kubernetes.operator.jm-deployment-recovery.enabled": "false"`), nil,
			`spec.flinkConfiguration[kubernetes.operator.jm-deployment-recovery.enabled]: Invalid value: "false": the cluster health check (kubernetes.operator.cluster.health-check.enabled) needs JobManager deployment recovery`},
		{"health check with default deployment recovery", withSettings(`"kubernetes.operator.cluster.health-check.enabled": "true"`), nil, ""},
		// validateJobSpec: with taskManager.replicas set, the parallelism
		// is their slots and job.parallelism is not read.
		{"negative parallelism with fixed taskmanagers", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.Parallelism = -1
			fd.Spec.TaskManager.Replicas = ptr.To[int32](2)
		}, nil, ""},
		{"negative parallelism", func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job.Parallelism = -1 }, nil,
			"spec.job.parallelism: Invalid value: -1: must be at least 1 unless taskManager.replicas is set"},
		{"negative parallelism with zero taskmanagers", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.Parallelism = -1
			fd.Spec.TaskManager.Replicas = ptr.To[int32](0)
		}, nil, "spec.taskManager.replicas"},
		// validateResources does not check resource.cpu: 0 asks for no CPU.
		{"jobmanager cpu 0", func(fd *v1beta1.FlinkDeployment) { fd.Spec.JobManager.Resource.CPU = ptr.To(0.0) }, nil, ""},
		{"taskmanager cpu 0", func(fd *v1beta1.FlinkDeployment) { fd.Spec.TaskManager.Resource.CPU = ptr.To(0.0) }, nil, ""},
		{"negative cpu", func(fd *v1beta1.FlinkDeployment) { fd.Spec.TaskManager.Resource.CPU = ptr.To(-0.5) }, nil,
			"spec.taskManager.resource.cpu: Invalid value: -0.5: must not be negative: Kubernetes refuses a negative CPU request"},
		// validateResourceRequirements: cpu requests and limits must be
		// positive, other resources not negative.
		{"cpu request 0", withResources("jobManager", "requests", "cpu", "0"), nil, `spec.jobManager.resources.requests[cpu]: Invalid value: "0": must be positive`},
		{"cpu limit 0", withResources("taskManager", "limits", "cpu", "0m"), nil, `spec.taskManager.resources.limits[cpu]: Invalid value: "0m": must be positive`},
		{"negative cpu request", withResources("taskManager", "requests", "cpu", "-1"), nil, `spec.taskManager.resources.requests[cpu]: Invalid value: "-1": must be positive`},
		{"memory request 0", withResources("taskManager", "requests", "memory", "0"), nil, `spec.taskManager.resources.requests[memory]: Invalid value: "0": not a quantity`},
		{"negative ephemeral storage limit", withResources("jobManager", "limits", "ephemeral-storage", "-1Gi"), nil,
			`spec.jobManager.resources.limits[ephemeral-storage]: Invalid value: "-1Gi": must not be negative`},
		{"ephemeral storage request 0", withResources("jobManager", "requests", "ephemeral-storage", "0"), nil, ""},
		{"fractional cpu request", withResources("taskManager", "requests", "cpu", "250m"), nil, ""},
		// validateJmSpec / validateTmSpec: memory may come from the Flink
		// configuration; flink-hub needs the process size there.
		{"memory only in the configuration", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.JobManager.Resource.Memory, fd.Spec.TaskManager.Resource.Memory = "", ""
			withSettings(`"jobmanager.memory.process.size": "1600m", "taskmanager.memory.process.size": "2 gb"`)(fd)
		}, nil, ""},
		{"no resources, memory in nested configuration", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.JobManager, fd.Spec.TaskManager = nil, nil
			withSettings(`"jobmanager": {"memory": {"process.size": "1g"}}, "taskmanager.memory.process.size": "2g"`)(fd)
		}, nil, ""},
		{"unreadable process size in the configuration", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.TaskManager.Resource.Memory = ""
			withSettings(`"taskmanager.memory.process.size": "lots"`)(fd)
		}, nil, `spec.flinkConfiguration[taskmanager.memory.process.size]: Invalid value: "lots"`},
		{"unreadable process size the resource overrides", func(fd *v1beta1.FlinkDeployment) {
			withSettings(`"taskmanager.memory.process.size": "lots"`)(fd)
		}, nil, ""},
		{"only Flink's total memory in the configuration", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.TaskManager.Resource.Memory = ""
			withSettings(`"taskmanager.memory.flink.size": "2g"`)(fd)
		}, nil, "spec.taskManager.resource.memory: Required value: TaskManager memory must be set in resource.memory, resources.requests.memory or flinkConfiguration taskmanager.memory.process.size (flink-hub sizes the pods by the process size; it does not work it out from Flink's other memory options)"},
		// validateServiceAccount: only a missing name is refused.
		{"empty service account", func(fd *v1beta1.FlinkDeployment) { fd.Spec.ServiceAccount = ptr.To("") }, nil, ""},
		{"no health check, no deployment recovery", withSettings(`"kubernetes.operator.cluster.health-check.enabled": "false", "kubernetes.operator.jm-deployment-recovery.enabled": "false"`), nil, ""},
	}
}

// withResources sets one amount of role's (jobManager, taskManager)
// resources, list being requests or limits.
func withResources(role, list string, name corev1.ResourceName, v string) func(*v1beta1.FlinkDeployment) {
	return func(fd *v1beta1.FlinkDeployment) {
		r := &v1beta1.ResourceRequirements{Requests: map[corev1.ResourceName]intstr.IntOrString{}, Limits: map[corev1.ResourceName]intstr.IntOrString{}}
		m := r.Requests
		if list == "limits" {
			m = r.Limits
		}
		m[name] = intstr.FromString(v)
		if role == "jobManager" {
			fd.Spec.JobManager.Resources = r
		} else {
			fd.Spec.TaskManager.Resources = r
		}
	}
}
