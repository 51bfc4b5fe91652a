// Package validation holds the FlinkDeployment rules shared by the
// controller (which reports violations in status.error and leaves the
// running job alone) and the admission webhook (which rejects the write).
// The rules follow the Apache operator's validator.
package validation

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinknames"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// MaxNameLength is the longest FlinkDeployment name: Flink derives
// Service and ConfigMap names from it.
const MaxNameLength = 45

var namePattern = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,43}[a-z0-9])?$`)

// ForbiddenConfigKeys are set by the operator; a user value would split
// the cluster's identity.
var ForbiddenConfigKeys = []string{flinkconf.KeyNamespace, flinkconf.KeyClusterID, flinkconf.KeyHAClusterID}

// AllowedLogFiles are the logConfiguration keys Flink reads.
var AllowedLogFiles = []string{"log4j-console.properties", "logback-console.xml"}

// AllowedJarSchemes are the jarURI schemes Flink can fetch from.
var AllowedJarSchemes = []string{"local", "file", "http", "https", "s3", "s3a", "s3p", "gs", "hdfs", "abfs", "abfss", "wasb", "wasbs", "oss", "viewfs"}

// RemovedAnnotations were read by earlier hubs and are refused now, each
// with what replaces it: they chose, per FlinkDeployment, where the hub
// sends its Flink REST calls and executed tenant text as a Go template.
var RemovedAnnotations = map[string]string{
	"flink-hub.io/rest-transport":    "no longer supported: the hub's --flink-rest-transport flag alone decides how JobManagers are reached; remove the annotation",
	"flink-hub.io/rest-url-template": "no longer supported: the hub's --flink-rest-url-template flag alone decides where JobManagers are reached; remove the annotation",
}

// UnsupportedFlinkVersions are the versions the CRD still names (upstream
// keeps them in its enum, so every upstream object stays readable) but
// the Apache operator no longer runs (since its 1.7 release: its oldest
// supported version is v1_15), nor does flink-hub.
var UnsupportedFlinkVersions = []v1beta1.FlinkVersion{"v1_13", "v1_14"}

// UnsupportedVersionMessage is the refusal of an unsupported version, as
// upstream words it, with what to do.
func UnsupportedVersionMessage(v v1beta1.FlinkVersion) string {
	return fmt.Sprintf("Flink version %s is not supported by this operator version; use v1_15 or newer", v)
}

// NamespaceRefusal is why a FlinkDeployment in memberconfig.RefusedNamespace
// (kube-system) is refused: the hub never writes there.
const NamespaceRefusal = "flink-hub does not manage FlinkDeployments in " + memberconfig.RefusedNamespace + ": create it in an application namespace"

// ValidateNamespace refuses the namespaces the hub never manages
// FlinkDeployments in; nil for the others.
func ValidateNamespace(namespace string) *field.Error {
	if namespace == memberconfig.RefusedNamespace {
		return field.Forbidden(field.NewPath("metadata", "namespace"), NamespaceRefusal)
	}
	return nil
}

// Validate checks fd. previous is the last reconciled spec, nil before the
// first deployment; rules about changes (session to application, native to
// standalone) need it.
func Validate(fd *v1beta1.FlinkDeployment, previous *v1beta1.FlinkDeploymentSpec) field.ErrorList {
	var errs field.ErrorList
	spec := &fd.Spec
	sp := field.NewPath("spec")

	if err := ValidateNamespace(fd.Namespace); err != nil {
		errs = append(errs, err)
	}
	if len(fd.Name) > MaxNameLength || !namePattern.MatchString(fd.Name) {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), fd.Name,
			fmt.Sprintf("must be lower case alphanumerics or '-', start with a letter, end with an alphanumeric, and be at most %d characters", MaxNameLength)))
	}
	if refused, ok := fd.Annotations[v1beta1.AnnotationRefusedQuantities]; ok {
		errs = append(errs, field.Invalid(sp, refused, "quantities with an exponent of three digits or more are refused (the hub would never finish reading them); write sizes such as 2Gi or 2048m"))
	}
	for _, name := range slices.Sorted(maps.Keys(RemovedAnnotations)) {
		if _, set := fd.Annotations[name]; set {
			errs = append(errs, field.Forbidden(field.NewPath("metadata", "annotations").Key(name), RemovedAnnotations[name]))
		}
	}
	if spec.FlinkVersion == "" {
		errs = append(errs, field.Required(sp.Child("flinkVersion"), "the Flink version must be set"))
	} else if slices.Contains(UnsupportedFlinkVersions, spec.FlinkVersion) {
		errs = append(errs, field.Invalid(sp.Child("flinkVersion"), spec.FlinkVersion, UnsupportedVersionMessage(spec.FlinkVersion)))
	}
	if spec.ServiceAccount == nil {
		errs = append(errs, field.Required(sp.Child("serviceAccount"), "the Flink pods' service account must be set (an empty name runs them as the namespace's default ServiceAccount)"))
	}
	conf, err := spec.FlatConfiguration()
	if err != nil {
		return append(errs, field.Invalid(sp.Child("flinkConfiguration"), "", err.Error()))
	}
	for _, k := range slices.Sorted(maps.Keys(conf)) {
		if err := flinkconf.CheckKey(k); err != nil {
			errs = append(errs, field.Invalid(sp.Child("flinkConfiguration"), k, err.Error()))
		}
		if t := flinkconf.TrimKey(k); slices.Contains(ForbiddenConfigKeys, t) {
			errs = append(errs, field.Forbidden(sp.Child("flinkConfiguration").Key(t), "set by the operator"))
		}
	}
	for name := range spec.LogConfiguration {
		if !slices.Contains(AllowedLogFiles, name) {
			errs = append(errs, field.NotSupported(sp.Child("logConfiguration").Key(name), name, AllowedLogFiles))
		}
	}
	errs = append(errs, validateIngress(fd, sp.Child("ingress", "template"))...)
	ha := flinkconf.Config(conf).HAEnabled()
	errs = append(errs, validateOperatorSettings(conf, ha, sp.Child("flinkConfiguration"))...)
	errs = append(errs, validatePodSettings(conf, ha, sp.Child("flinkConfiguration"))...)
	errs = append(errs, validateParallelismOverrides(conf, sp.Child("flinkConfiguration"))...)
	errs = append(errs, validateSizes(spec, conf, sp)...)
	errs = append(errs, validateJobManager(spec, conf, ha, sp.Child("jobManager"))...)
	errs = append(errs, validateTaskManager(spec, conf, sp.Child("taskManager"))...)
	if spec.Job != nil {
		errs = append(errs, validateJob(spec, conf, sp.Child("job"))...)
	}
	if previous != nil {
		errs = append(errs, validateChange(spec, previous, fd.Status.JobStatus.UpgradeSavepointPath, sp)...)
	}
	return errs
}

// validateIngress refuses an ingress without a template, or one whose
// template makes no URL or a host an Ingress rule cannot name.
func validateIngress(fd *v1beta1.FlinkDeployment, p *field.Path) field.ErrorList {
	ing := fd.Spec.Ingress
	switch {
	case ing == nil:
		return nil
	case ing.Template == "":
		return field.ErrorList{field.Required(p, "an ingress needs a template")}
	}
	if _, _, err := flinknames.IngressRule(ing.Template, fd.Name, fd.Namespace); err != nil {
		return field.ErrorList{field.Invalid(p, ing.Template, "Unable to process the Ingress template: "+err.Error())}
	}
	return nil
}

// validateOperatorSettings checks the kubernetes.operator.* settings the hub
// reads, that rollbacks have the HA they need and that the cluster health
// check has the JobManager deployment recovery it needs, as upstream does.
func validateOperatorSettings(conf map[string]string, ha bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, key := range slices.Sorted(maps.Keys(conf)) {
		if err := flinkconf.CheckOperatorSetting(key, conf[key]); err != nil {
			errs = append(errs, field.Invalid(p.Key(key), shownValue(key, conf[key]), err.Error()))
		}
	}
	if on, _ := flinkconf.Bool(conf[flinkconf.KeyRollbackEnabled]); on && !ha {
		errs = append(errs, field.Invalid(p.Key(flinkconf.KeyRollbackEnabled), conf[flinkconf.KeyRollbackEnabled], "rollbacks need high availability (high-availability.type)"))
	}
	health, _ := flinkconf.Bool(flinkconf.OperatorSetting(conf, flinkconf.KeyHealthCheck))
	if recovery, set := flinkconf.Bool(flinkconf.OperatorSetting(conf, flinkconf.KeyJMRecovery)); health && set && !recovery {
		errs = append(errs, field.Invalid(p.Key(flinkconf.KeyJMRecovery), flinkconf.OperatorSetting(conf, flinkconf.KeyJMRecovery),
			"the cluster health check ("+flinkconf.KeyHealthCheck+") needs JobManager deployment recovery: enable "+flinkconf.KeyJMRecovery+" (true by default) or turn the health check off"))
	}
	return errs
}

// shownValue is value as an error about key shows it: not at all when it
// is a secret (flinkconf.Sensitive), such as the jar fetch's headers.
func shownValue(key, value string) any {
	if flinkconf.Sensitive(key) {
		return field.OmitValueType{}
	}
	return value
}

// validatePodSettings checks Flink's pod settings, which the hub applies to
// the pods it builds: every map, list and factor must read as Flink reads
// it, the REST Service's type must be one Flink knows, and standby
// JobManagers need HA.
func validatePodSettings(conf map[string]string, ha bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if err := flinkconf.Config(conf).CheckPodSettings(); err != nil {
		errs = append(errs, field.Invalid(p, "(pod settings)", err.Error()))
	}
	if _, _, err := flinkconf.Config(conf).RestServiceType(); err != nil {
		errs = append(errs, field.Invalid(p.Key(flinkconf.KeyRestExposedType), conf[flinkconf.KeyRestExposedType], err.Error()))
	}
	if v, ok := conf[flinkconf.KeyJMReplicas]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		switch {
		case err != nil || n < 1:
			errs = append(errs, field.Invalid(p.Key(flinkconf.KeyJMReplicas), v, "must be a whole number of at least 1"))
		case n > 1 && !ha:
			errs = append(errs, field.Invalid(p.Key(flinkconf.KeyJMReplicas), v, "standby JobManagers need high availability (high-availability.type)"))
		}
	}
	return errs
}

func validateJobManager(spec *v1beta1.FlinkDeploymentSpec, conf map[string]string, ha bool, p *field.Path) field.ErrorList {
	jm := spec.JobManager
	if jm == nil {
		return validateResources("JobManager", nil, nil, conf, p)
	}
	errs := validateResources("JobManager", jm.Resource, jm.Resources, conf, p)
	switch {
	case jm.Replicas < 0:
		errs = append(errs, field.Invalid(p.Child("replicas"), jm.Replicas, "must be at least 1"))
	case jm.Replicas > 1 && !ha:
		errs = append(errs, field.Invalid(p.Child("replicas"), jm.Replicas, "standby JobManagers need high availability (high-availability.type)"))
	}
	return errs
}

func validateTaskManager(spec *v1beta1.FlinkDeploymentSpec, conf map[string]string, p *field.Path) field.ErrorList {
	tm := spec.TaskManager
	if tm == nil {
		return validateResources("TaskManager", nil, nil, conf, p)
	}
	errs := validateResources("TaskManager", tm.Resource, tm.Resources, conf, p)
	if tm.Replicas != nil && *tm.Replicas < 1 {
		errs = append(errs, field.Invalid(p.Child("replicas"), *tm.Replicas, "must be at least 1"))
	}
	return errs
}

// validateResources checks the resources of the JobManager or TaskManager
// (role), nil when the spec has none: memory must be set, and every amount
// must be readable.
func validateResources(role string, res *v1beta1.Resource, reqs *v1beta1.ResourceRequirements, conf map[string]string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if !hasMemory(res, reqs) {
		errs = append(errs, validateConfiguredMemory(role, conf, p)...)
	}
	errs = append(errs, validateMemory(res, reqs, p)...)
	errs = append(errs, validateEphemeralStorage(role, res, p)...)
	return append(errs, validateLimits(reqs, p)...)
}

// validateEphemeralStorage refuses a resource.ephemeralStorage that is not
// a Kubernetes quantity, or is negative: the hub would find out only
// while building the pods, after stopping the old job for an upgrade.
func validateEphemeralStorage(role string, res *v1beta1.Resource, p *field.Path) field.ErrorList {
	if res == nil || res.EphemeralStorage == "" {
		return nil
	}
	q, err := flinkconf.ParseQuantity(res.EphemeralStorage)
	if err == nil && q.Sign() < 0 {
		err = fmt.Errorf("must not be negative")
	}
	if err != nil {
		return field.ErrorList{field.Invalid(p.Child("resource", "ephemeralStorage"), res.EphemeralStorage, role+" resource ephemeral storage parse error: "+err.Error())}
	}
	return nil
}

// validateLimits refuses a memory or CPU limit below its request: the
// hub gives pods the limit as set, and Flink its ratio as a limit factor,
// which must be at least 1.
func validateLimits(reqs *v1beta1.ResourceRequirements, p *field.Path) field.ErrorList {
	if reqs == nil {
		return nil
	}
	var errs field.ErrorList
	for _, name := range []corev1.ResourceName{corev1.ResourceMemory, corev1.ResourceCPU} {
		req, hasReq := reqs.Requests[name]
		lim, hasLim := reqs.Limits[name]
		if !hasReq || !hasLim {
			continue
		}
		r, rok := amount(name, req.String())
		l, lok := amount(name, lim.String())
		if rok && lok && l < r {
			errs = append(errs, field.Invalid(p.Child("resources", "limits").Key(string(name)), lim.String(), "below the request "+req.String()))
		}
	}
	return errs
}

// amount reads a memory size in bytes or a quantity in millis.
func amount(name corev1.ResourceName, v string) (int64, bool) {
	if name == corev1.ResourceMemory {
		b, err := flinkconf.MemoryBytes(v)
		return b, err == nil
	}
	q, err := flinkconf.ParseQuantity(v)
	return q.MilliValue(), err == nil
}

// validateConfiguredMemory checks the memory of role (JobManager,
// TaskManager) when the spec's resources leave it out: as upstream, the
// Flink configuration may give it, but flink-hub sizes the pods it builds
// by the process size alone (jobmanager.memory.process.size,
// taskmanager.memory.process.size) and does not work it out from Flink's
// other memory options, as Flink's memory model would.
func validateConfiguredMemory(role string, conf map[string]string, p *field.Path) field.ErrorList {
	key := flinkconf.KeyJMMemory
	if role == "TaskManager" {
		key = flinkconf.KeyTMMemory
	}
	v, set := conf[key]
	if !set {
		return field.ErrorList{field.Required(p.Child("resource", "memory"), role+" memory must be set in resource.memory, resources.requests.memory or flinkConfiguration "+key+
			" (flink-hub sizes the pods by the process size; it does not work it out from Flink's other memory options)")}
	}
	if _, err := flinkconf.MemoryBytes(v); err != nil {
		return field.ErrorList{field.Invalid(field.NewPath("spec", "flinkConfiguration").Key(key), v, err.Error())}
	}
	return nil
}

func hasMemory(res *v1beta1.Resource, reqs *v1beta1.ResourceRequirements) bool {
	if res != nil && res.Memory != "" {
		return true
	}
	if reqs == nil {
		return false
	}
	_, req := reqs.Requests[corev1.ResourceMemory]
	_, lim := reqs.Limits[corev1.ResourceMemory]
	return req || lim
}

func validateMemory(res *v1beta1.Resource, reqs *v1beta1.ResourceRequirements, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if res != nil && res.Memory != "" {
		if _, err := flinkconf.MemoryBytes(res.Memory); err != nil {
			errs = append(errs, field.Invalid(p.Child("resource", "memory"), res.Memory, err.Error()))
		}
	}
	// Upstream does not check resource.cpu; 0 makes pods that request no
	// CPU and have no CPU limit, which Kubernetes runs, but a negative
	// amount makes pods the apiserver refuses.
	if res != nil && res.CPU != nil && *res.CPU < 0 {
		errs = append(errs, field.Invalid(p.Child("resource", "cpu"), *res.CPU, "must not be negative: Kubernetes refuses a negative CPU request"))
	}
	if reqs != nil {
		for _, list := range []struct {
			name string
			m    map[corev1.ResourceName]intstr.IntOrString
		}{{"requests", reqs.Requests}, {"limits", reqs.Limits}} {
			for _, name := range slices.Sorted(maps.Keys(list.m)) {
				q := list.m[name]
				v := q.String()
				if msg := quantityProblem(name, v); msg != "" {
					errs = append(errs, field.Invalid(p.Child("resources", list.name).Key(string(name)), v, msg))
				}
			}
		}
	}
	return errs
}

// quantityProblem says what is wrong with an amount of resources, as
// upstream's validateResourceRequirements: memory must be a positive
// Flink or Kubernetes size, CPU a positive quantity, everything else a
// quantity that is not negative; "" when it is fine.
func quantityProblem(name corev1.ResourceName, v string) string {
	if name == corev1.ResourceMemory {
		if _, err := flinkconf.MemoryBytes(v); err != nil {
			return "not a quantity"
		}
		return ""
	}
	q, err := flinkconf.ParseQuantity(v)
	switch {
	case err != nil:
		return "not a quantity"
	case name == corev1.ResourceCPU && q.Sign() <= 0:
		return "must be positive"
	case q.Sign() < 0:
		return "must not be negative"
	}
	return ""
}

func validateJob(spec *v1beta1.FlinkDeploymentSpec, conf map[string]string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	job := spec.Job
	if job.JarURI != "" {
		errs = append(errs, validateJarURI(job.JarURI, p.Child("jarURI"))...)
	}
	// As upstream: fixed TaskManagers set the job's parallelism (their
	// slots), and job.parallelism, whatever its value, is not read.
	fixedTaskManagers := spec.TaskManager != nil && spec.TaskManager.Replicas != nil
	if job.Parallelism < 1 && !fixedTaskManagers {
		errs = append(errs, field.Invalid(p.Child("parallelism"), job.Parallelism, "must be at least 1 unless taskManager.replicas is set"))
	}
	switch job.UpgradeMode {
	case v1beta1.UpgradeModeLastState:
		// As upstream since FLINK-35414, last-state needs no HA: without
		// it the upgrade cancels the job and starts from its latest
		// checkpoint, retained on cancellation.
		if flinkconf.CheckpointsDir(flinkconf.Config(conf).Get) == "" {
			errs = append(errs, field.Required(field.NewPath("spec", "flinkConfiguration").Key(flinkconf.KeyCheckpointsDir), "last-state upgrades need a checkpoint directory"))
		}
	case v1beta1.UpgradeModeSavepoint:
		if flinkconf.CheckpointsDir(flinkconf.Config(conf).Get) == "" {
			errs = append(errs, field.Required(field.NewPath("spec", "flinkConfiguration").Key(flinkconf.KeyCheckpointsDir), "savepoint upgrades need a checkpoint directory"))
		}
		if flinkconf.SavepointsDir(flinkconf.Config(conf).Get) == "" {
			errs = append(errs, field.Required(field.NewPath("spec", "flinkConfiguration").Key(flinkconf.KeySavepointsDir), "savepoint upgrades need a savepoint directory"))
		}
	}
	return append(errs, validateSavepointUsers(job, conf)...)
}

// validateSavepointUsers refuses, without a savepoint directory, what
// would take savepoints anyway: manual and periodic savepoints, and a
// last-state upgrade past its maximum checkpoint age (which takes one).
func validateSavepointUsers(job *v1beta1.JobSpec, conf map[string]string) field.ErrorList {
	if flinkconf.SavepointsDir(flinkconf.Config(conf).Get) != "" {
		return nil
	}
	var errs field.ErrorList
	dir := field.NewPath("spec", "flinkConfiguration").Key(flinkconf.KeySavepointsDir)
	if job.SavepointTriggerNonce != nil {
		errs = append(errs, field.Required(dir, "manual savepoints need a savepoint directory"))
	}
	if strings.TrimSpace(conf[flinkconf.KeyPeriodicSavepointInterval]) != "" {
		errs = append(errs, field.Required(dir, "periodic savepoints need a savepoint directory"))
	}
	if strings.TrimSpace(flinkconf.OperatorSetting(conf, flinkconf.KeyLastStateMaxCheckpointAge)) != "" {
		errs = append(errs, field.Required(dir, "In order to use max-checkpoint age functionality config key["+flinkconf.KeySavepointsDir+"] must be set to allow triggering savepoint upgrades."))
	}
	return errs
}

// validateJarURI checks a jarURI; errors quote it without its userinfo.
func validateJarURI(jar string, p *field.Path) field.ErrorList {
	shown := problem.RedactURI(jar)
	u, err := url.Parse(jar)
	if err != nil {
		return field.ErrorList{field.Invalid(p, shown, "not a valid URI")}
	}
	if u.Scheme == "" {
		return field.ErrorList{field.Invalid(p, shown, "must include a scheme, e.g. local:///opt/flink/usrlib/job.jar")}
	}
	if !slices.Contains(AllowedJarSchemes, strings.ToLower(u.Scheme)) {
		return field.ErrorList{field.NotSupported(p, u.Scheme+"://", schemesWithSuffix())}
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host == "" {
		return field.ErrorList{field.Invalid(p, shown, "http(s) URIs need a host")}
	}
	return nil
}

// validateChange checks spec against the last reconciled one, previous;
// restorePath is where the suspended job starts again
// (status.jobStatus.upgradeSavepointPath).
func validateChange(spec, previous *v1beta1.FlinkDeploymentSpec, restorePath string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case previous.Job == nil && spec.Job != nil:
		errs = append(errs, field.Forbidden(p.Child("job"), "cannot switch from a session cluster to an application cluster; create a new FlinkDeployment"))
	case previous.Job != nil && spec.Job == nil:
		errs = append(errs, field.Forbidden(p.Child("job"), "cannot switch from an application cluster to a session cluster; create a new FlinkDeployment"))
	}
	if modeOf(previous) != modeOf(spec) {
		errs = append(errs, field.Forbidden(p.Child("mode"), fmt.Sprintf("cannot switch from %s to %s", modeOf(previous), modeOf(spec))))
	}
	if err := validateVersionChange(spec, previous, restorePath, p.Child("flinkVersion")); err != nil {
		errs = append(errs, err)
	}
	if spec.Job != nil && previous.Job != nil &&
		v1beta1.NonceAsks(spec.Job.SavepointRedeployNonce, previous.Job.SavepointRedeployNonce) && blank(spec.Job.InitialSavepointPath) {
		errs = append(errs, field.Required(p.Child("job", "initialSavepointPath"), "a savepoint redeployment needs the savepoint to start from"))
	}
	return errs
}

// validateVersionChange refuses, as upstream does, a new Flink version for
// a job last reconciled suspended with last-state unless it now runs
// stateless: its state is in the old version's HA metadata, which the new
// version's JobManager would have to read. A suspend that recorded where
// the job starts again (a savepoint, or the checkpoint of a cancellation:
// upstream then records the savepoint mode as reconciled) left no state
// in HA metadata.
func validateVersionChange(spec, previous *v1beta1.FlinkDeploymentSpec, restorePath string, p *field.Path) *field.Error {
	if spec.Job == nil || previous.Job == nil || spec.Job.UpgradeMode == "" || spec.Job.UpgradeMode == v1beta1.UpgradeModeStateless || restorePath != "" {
		return nil
	}
	if previous.Job.State != v1beta1.JobStateSuspended || previous.Job.UpgradeMode != v1beta1.UpgradeModeLastState || previous.FlinkVersion == spec.FlinkVersion {
		return nil
	}
	return field.Forbidden(p, "Changing flinkVersion after last-state suspend is not allowed. Restore your cluster with the current flinkVersion and perform the version upgrade afterwards.")
}

// blank reports a value that is empty or only white space, which upstream
// treats as unset (isNullOrWhitespaceOnly) and Flink cannot use as a path.
func blank(v string) bool { return strings.TrimSpace(v) == "" }

func modeOf(spec *v1beta1.FlinkDeploymentSpec) v1beta1.KubernetesDeploymentMode {
	if spec.Mode == v1beta1.ModeStandalone {
		return v1beta1.ModeStandalone
	}
	return v1beta1.ModeNative
}

func schemesWithSuffix() []string {
	out := make([]string, len(AllowedJarSchemes))
	for i, s := range AllowedJarSchemes {
		out[i] = s + "://"
	}
	return out
}
