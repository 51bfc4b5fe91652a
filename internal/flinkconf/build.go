package flinkconf

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// Well-known configuration keys.
const (
	KeyClusterID          = "kubernetes.cluster-id"
	KeyNamespace          = "kubernetes.namespace"
	KeyHAClusterID        = "high-availability.cluster-id"
	KeyHAType             = "high-availability.type"
	KeyHALegacy           = "high-availability"
	KeyHAStorageDir       = "high-availability.storageDir"
	KeyRestPort           = "rest.port"
	KeyTarget             = "execution.target"
	KeyParallelism        = "parallelism.default"
	KeySlots              = "taskmanager.numberOfTaskSlots"
	KeyJars               = "pipeline.jars"
	KeyClasspaths         = "pipeline.classpaths"
	KeyPipelineName       = "pipeline.name"
	KeyMainClass          = "$internal.application.main"
	KeyProgramArgs        = "$internal.application.program-args"
	KeySavepointPath      = "execution.savepoint.path"
	KeyIgnoreUnclaimed    = "execution.savepoint.ignore-unclaimed-state"
	KeyShutdownOnFinish   = "execution.shutdown-on-application-finish"
	KeySubmitFailedJob    = "execution.submit-failed-job-on-application-error"
	KeyRestExposedType    = "kubernetes.rest-service.exposed.type"
	KeyCancelEnable       = "web.cancel.enable"
	KeyFlinkVersion       = "$internal.flink.version"
	KeyImage              = "kubernetes.container.image.ref"
	KeyImagePullPolicy    = "kubernetes.container.image.pull-policy"
	KeyServiceAccount     = "kubernetes.service-account"
	KeyJMMemory           = "jobmanager.memory.process.size"
	KeyTMMemory           = "taskmanager.memory.process.size"
	KeyJMCPU              = "kubernetes.jobmanager.cpu.amount"
	KeyTMCPU              = "kubernetes.taskmanager.cpu.amount"
	KeyJMReplicas         = "kubernetes.jobmanager.replicas"
	KeyTMReplicas         = "kubernetes.internal.taskmanager.replicas"
	KeyCheckpointInterval = "execution.checkpointing.interval"
	// KeyCheckpointTimeout is how long Flink lets a checkpoint or
	// savepoint run before it fails it (10 min by default); the hub
	// reports one in progress longer.
	KeyCheckpointTimeout      = "execution.checkpointing.timeout"
	KeyExternalizedCheckpoint = "execution.checkpointing.externalized-checkpoint-retention"
	KeyCheckpointsDir         = "state.checkpoints.dir"
	KeySavepointsDir          = "state.savepoints.dir"
	KeyTMPodTemplate          = "kubernetes.pod-template-file.taskmanager"
	KeyDeploymentTarget       = "kubernetes.deployment.target"
)

// DefaultRestPort is Flink's REST port.
const DefaultRestPort = 8081

// TaskManagerPodTemplatePath is where native JobManagers find the
// TaskManager pod template: a file of the configuration ConfigMap, mounted
// with the configuration.
const TaskManagerPodTemplatePath = "/opt/flink/conf/" + TaskManagerPodTemplateFile

// TaskManagerPodTemplateFile is the TaskManager pod template's key in the
// configuration ConfigMap of a native cluster.
const TaskManagerPodTemplateFile = "taskmanager-pod-template.yaml"

// KeyJMAddress is where TaskManagers reach the JobManager's RPC endpoint.
const KeyJMAddress = "jobmanager.rpc.address"

// Restore says what state a (re)deployed job starts from.
type Restore struct {
	// SavepointPath is the savepoint or checkpoint to start from; empty for
	// empty state or for last-state, where Flink finds the latest
	// checkpoint in its HA metadata.
	SavepointPath string
}

// Config is a flat Flink configuration.
type Config map[string]string

// Build returns the effective Flink configuration of fd in the given mode.
// Errors name the spec field at fault.
func Build(fd *v1beta1.FlinkDeployment, mode v1beta1.KubernetesDeploymentMode, restore Restore) (Config, error) {
	spec := &fd.Spec
	user, err := spec.FlatConfiguration()
	if err != nil {
		return nil, err
	}
	c := Config(user)
	// The jar fetch headers are the hub's to send (credentials of an
	// artifact repository): Flink never reads them, and its configuration
	// is stored in a ConfigMap and shown by its REST API.
	delete(c, KeyArtifactHTTPHeader)
	c.setDefault(KeyRestExposedType, "ClusterIP")
	c.setDefault(KeyCancelEnable, "false")
	if spec.FlinkVersion != "" {
		c[KeyFlinkVersion] = string(spec.FlinkVersion)
	}
	if spec.Image != "" {
		c[KeyImage] = spec.Image
	}
	if spec.ImagePullPolicy != "" {
		c[KeyImagePullPolicy] = spec.ImagePullPolicy
	}
	switch sa := spec.ServiceAccount; {
	case sa != nil && *sa != "":
		c[KeyServiceAccount] = *sa
	case sa != nil:
		// As upstream, the spec's empty name wins over the configuration's:
		// the pods run as the namespace's default ServiceAccount.
		delete(c, KeyServiceAccount)
	}
	c.setDefault(KeyRestPort, strconv.Itoa(DefaultRestPort))

	if jm := spec.JobManager; jm != nil {
		if err := c.applyResources("spec.jobManager", RoleJobManager, jm.Resources, jm.Resource, KeyJMMemory, KeyJMCPU); err != nil {
			return nil, err
		}
		if jm.Replicas > 0 {
			c[KeyJMReplicas] = strconv.Itoa(int(jm.Replicas))
		}
	}
	if tm := spec.TaskManager; tm != nil {
		if err := c.applyResources("spec.taskManager", RoleTaskManager, tm.Resources, tm.Resource, KeyTMMemory, KeyTMCPU); err != nil {
			return nil, err
		}
		if tm.Replicas != nil && *tm.Replicas > 0 {
			c[KeyTMReplicas] = strconv.Itoa(int(*tm.Replicas))
		}
	}

	if spec.Job != nil {
		if err := c.applyJob(fd, mode, restore); err != nil {
			return nil, err
		}
	} else {
		c[KeyTarget] = "kubernetes-session"
	}
	if mode == v1beta1.ModeStandalone {
		c[KeyDeploymentTarget] = "standalone"
		if spec.Job != nil {
			if _, set := c[KeyTMReplicas]; !set {
				c[KeyTMReplicas] = strconv.Itoa(int(TaskManagers(c.Parallelism(), c.Slots())))
			}
		}
	} else {
		c[KeyTMPodTemplate] = TaskManagerPodTemplatePath
	}

	c[KeyNamespace] = fd.Namespace
	c[KeyClusterID] = fd.Name
	if c.HAEnabled() {
		c[KeyHAClusterID] = fd.Name
	}
	if c.InternalService(mode) {
		// As Flink's client does when it makes the internal Service.
		c[KeyJMAddress] = fd.Name + "." + fd.Namespace
	}
	return c, nil
}

// InternalService reports whether the cluster has an internal JobManager
// Service (RPC and blob server), as Flink builds one: always in standalone
// mode; in native mode only without high availability, where the
// TaskManagers find the JobManager's pod address in the HA metadata.
func (c Config) InternalService(mode v1beta1.KubernetesDeploymentMode) bool {
	return mode == v1beta1.ModeStandalone || !c.HAEnabled()
}

func (c Config) applyJob(fd *v1beta1.FlinkDeployment, mode v1beta1.KubernetesDeploymentMode, restore Restore) error {
	job := fd.Spec.Job
	c[KeyTarget] = "kubernetes-application"
	if job.JarURI != "" {
		if mode == v1beta1.ModeStandalone {
			jar, err := standaloneJarURI(job.JarURI)
			if err != nil {
				return err
			}
			c[KeyClasspaths] = jar
		} else {
			c[KeyJars] = job.JarURI
		}
	}
	if parallelism := c.jobParallelism(fd, mode); parallelism > 0 {
		c[KeyParallelism] = strconv.Itoa(int(parallelism))
	}
	c[KeyShutdownOnFinish] = "false"
	c.setDefault(KeySubmitFailedJob, "true")
	c.setDefault(KeyPipelineName, fd.Name)
	if job.UpgradeMode == v1beta1.UpgradeModeLastState {
		c.setDefault(KeyCheckpointInterval, "5 min")
	}
	c.setDefault(KeyExternalizedCheckpoint, "RETAIN_ON_CANCELLATION")
	if job.AllowNonRestoredState != nil {
		c[KeyIgnoreUnclaimed] = strconv.FormatBool(*job.AllowNonRestoredState)
	}
	if job.EntryClass != "" {
		c[KeyMainClass] = job.EntryClass
	}
	if len(job.Args) > 0 {
		c[KeyProgramArgs] = strings.Join(job.Args, ";")
	}
	if restore.SavepointPath != "" {
		c[KeySavepointPath] = restore.SavepointPath
	} else {
		delete(c, KeySavepointPath)
	}
	return nil
}

// standaloneJarURI turns local:// into file://, which standalone
// application clusters need on their classpath.
func standaloneJarURI(jar string) (string, error) {
	u, err := url.Parse(jar)
	if err != nil {
		return "", fmt.Errorf("spec.job.jarURI: %s is not a valid URI", problem.RedactURI(jar))
	}
	if u.Scheme == "local" {
		u.Scheme = "file"
	}
	return u.String(), nil
}

func (c Config) applyResources(path string, role Role, reqs *v1beta1.ResourceRequirements, res *v1beta1.Resource, memKey, cpuKey string) error {
	if reqs != nil && (len(reqs.Requests) > 0 || len(reqs.Limits) > 0) {
		if mem, ok := requestOrLimit(reqs, corev1.ResourceMemory); ok {
			b, err := MemoryBytes(mem)
			if err != nil {
				return fmt.Errorf("%s.resources memory: %w", path, err)
			}
			c[memKey] = FormatMemory(b)
			if limit, ok := reqs.Limits[corev1.ResourceMemory]; ok {
				lb, err := MemoryBytes(limit.String())
				if err != nil {
					return fmt.Errorf("%s.resources.limits memory: %w", path, err)
				}
				if lb < b {
					return fmt.Errorf("%s.resources: the memory limit %s is below the request %s", path, limit.String(), mem)
				}
				c.setLimitFactor(role.MemoryLimitFactorKey(), float64(lb), float64(b))
			}
		}
		if cpu, ok := requestOrLimit(reqs, corev1.ResourceCPU); ok {
			v, err := parseQuantity(cpu)
			if err != nil {
				return fmt.Errorf("%s.resources cpu: %w", path, err)
			}
			c[cpuKey] = formatFloat(v)
			if limit, ok := reqs.Limits[corev1.ResourceCPU]; ok {
				lv, err := parseQuantity(limit.String())
				if err != nil {
					return fmt.Errorf("%s.resources.limits cpu: %w", path, err)
				}
				if lv < v {
					return fmt.Errorf("%s.resources: the cpu limit %s is below the request %s", path, limit.String(), cpu)
				}
				c.setLimitFactor(role.CPULimitFactorKey(), lv, v)
			}
		}
		return nil
	}
	if res == nil {
		return nil
	}
	if res.Memory != "" {
		b, err := MemoryBytes(res.Memory)
		if err != nil {
			return fmt.Errorf("%s.resource.memory: %w", path, err)
		}
		c[memKey] = FormatMemory(b)
	}
	if res.CPU != nil {
		c[cpuKey] = formatFloat(*res.CPU)
	}
	return nil
}

// setLimitFactor records limit/request as the limit factor of key, so that
// the pods Flink builds (native TaskManagers) get the user's limit too; a
// factor the user set in the configuration wins.
func (c Config) setLimitFactor(key string, limit, request float64) {
	if _, set := c[key]; set || request <= 0 || limit == request {
		return
	}
	c[key] = formatFloat(limit / request)
}

// KeyParallelismOverrides are Flink's per-vertex parallelism overrides.
const KeyParallelismOverrides = "pipeline.jobvertex-parallelism-overrides"

// jobParallelism is the job's parallelism as upstream derives it
// (FlinkConfigBuilder): the slots of fixed TaskManagers
// (taskManager.replicas, in both modes), else, in standalone mode, the
// largest parallelism override (it sizes the TaskManagers; in native mode
// Flink asks for what the overrides need, and a vertex without one keeps
// the job's parallelism), else spec.job.parallelism.
func (c Config) jobParallelism(fd *v1beta1.FlinkDeployment, mode v1beta1.KubernetesDeploymentMode) int32 {
	if tm := fd.Spec.TaskManager; tm != nil && tm.Replicas != nil && *tm.Replicas > 0 {
		return *tm.Replicas * int32(c.Slots())
	}
	if overrides, err := ParseMap(c[KeyParallelismOverrides]); err == nil && mode == v1beta1.ModeStandalone {
		best := 0
		for _, v := range overrides {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > best && n <= math.MaxInt32 {
				best = n
			}
		}
		if best > 0 {
			return int32(best)
		}
	}
	return fd.Spec.Job.Parallelism
}

func requestOrLimit(r *v1beta1.ResourceRequirements, name corev1.ResourceName) (string, bool) {
	if v, ok := r.Requests[name]; ok {
		return v.String(), true
	}
	if v, ok := r.Limits[name]; ok {
		return v.String(), true
	}
	return "", false
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func (c Config) setDefault(key, value string) {
	if _, ok := c[key]; !ok {
		c[key] = value
	}
}

// HAEnabled reports whether Flink high availability is configured.
func (c Config) HAEnabled() bool {
	for _, k := range []string{KeyHAType, KeyHALegacy} {
		if v, ok := c[k]; ok && v != "" && !strings.EqualFold(v, "none") {
			return true
		}
	}
	return false
}

// Slots is taskmanager.numberOfTaskSlots, 1 when unset or invalid.
func (c Config) Slots() int {
	n, err := strconv.Atoi(c[KeySlots])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// Parallelism is parallelism.default, 1 when unset or invalid.
func (c Config) Parallelism() int {
	n, err := strconv.Atoi(c[KeyParallelism])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// RestPort is rest.port, DefaultRestPort when unset or invalid.
func (c Config) RestPort() int32 {
	n, err := strconv.Atoi(c[KeyRestPort])
	if err != nil || n < 1 || n > 65535 {
		return DefaultRestPort
	}
	return int32(n)
}

// TaskManagers is the number of TaskManagers that give parallelism slots.
func TaskManagers(parallelism, slots int) int32 {
	if slots < 1 {
		slots = 1
	}
	return int32(math.Ceil(float64(max(parallelism, 1)) / float64(slots)))
}

// Render writes the configuration as the Flink configuration file named
// file, one flat key per line, sorted: YAML-quoted keys and values for
// config.yaml, raw ones for the legacy flink-conf.yaml, whose parser keeps
// quotes. A key or value the legacy parser would read as another line, a
// comment or another key is refused, and so is a key Flink would trim
// (CheckKey): it could set a key the operator owns.
func (c Config) Render(file string) (string, error) {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if err := CheckKey(k); err != nil {
			return "", err
		}
		if file == LegacyFileName {
			if err := checkLegacy(k, c[k]); err != nil {
				return "", err
			}
			b.WriteString(k + ": " + c[k] + "\n")
			continue
		}
		v, err := yaml.Marshal(c[k])
		if err != nil {
			// Control characters: YAML takes them escaped only.
			v = []byte(yamlQuote(c[k]) + "\n")
		}
		key := k
		if !plainKey(k) {
			key = yamlQuote(k)
		}
		if len(key) > 1000 {
			// YAML's implicit keys end at 1024 characters; an explicit
			// one has no limit.
			b.WriteString("? " + key + "\n")
		} else {
			b.WriteString(key)
		}
		b.WriteString(": ")
		b.Write(v)
	}
	return b.String(), nil
}

// plainKeyPattern is a key config.yaml can hold unquoted: words starting
// with a letter (or $internal's $), joined by dots, which YAML never reads
// as a number, and as a boolean or null only without a dot.
var plainKeyPattern = regexp.MustCompile(`^\$?[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$`)

// yamlWords are the words YAML 1.1 (Flink's parser) reads as booleans or null.
var yamlWords = []string{"y", "yes", "n", "no", "true", "false", "on", "off", "null"}

func plainKey(k string) bool {
	return plainKeyPattern.MatchString(k) && (strings.Contains(k, ".") || !slices.Contains(yamlWords, strings.ToLower(k)))
}

// yamlQuote writes s as a YAML double-quoted scalar, escaping all but
// printable ASCII.
func yamlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r <= 0xffff:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			fmt.Fprintf(&b, "\\U%08x", r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// TrimKey is key as Flink's configuration loaders may read it: Java's
// String.trim (flink-conf.yaml) drops every character up to U+0020 at
// either end; Unicode white space is dropped too, to be safe.
func TrimKey(key string) string {
	return strings.TrimFunc(key, func(r rune) bool { return r <= ' ' || unicode.IsSpace(r) })
}

// CheckKey refuses a configuration key that starts or ends with white
// space or a control character: Flink reads it as its trimmed form, which
// could be a key the hub sets, and a later line wins.
func CheckKey(key string) error {
	if t := TrimKey(key); t != key {
		return fmt.Errorf("configuration key %q starts or ends with white space or a control character; Flink would read it as %q: remove them", key, t)
	}
	return nil
}

// checkLegacy refuses what flink-conf.yaml cannot hold: line breaks, and
// in a key a comment sign or the ": " separator.
func checkLegacy(key, value string) error {
	switch {
	case strings.ContainsAny(key+value, "\r\n"):
		return fmt.Errorf("configuration key %q or its value has a line break, which %s cannot hold", key, LegacyFileName)
	case strings.TrimSpace(key) == "" || strings.Contains(key, "#") || strings.Contains(key, ": "):
		return fmt.Errorf("configuration key %q is empty or has '#' or ': ', which %s cannot hold", key, LegacyFileName)
	}
	return nil
}

// File names of Flink's configuration.
const (
	FileNameYAML   = "config.yaml"
	LegacyFileName = "flink-conf.yaml"
)

// FileName is the configuration file name Flink reads: config.yaml from
// Flink 1.19 on, flink-conf.yaml before.
func FileName(v v1beta1.FlinkVersion) string {
	switch v {
	case "v1_13", "v1_14", "v1_15", "v1_16", "v1_17", "v1_18":
		return LegacyFileName
	default:
		return FileNameYAML
	}
}
