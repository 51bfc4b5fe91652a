package flinksim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
)

// Labels and names the deployers create and the simulator reads.
const (
	labelApp       = "app"
	labelComponent = "component"
	labelType      = "type"

	componentJobManager  = "jobmanager"
	componentTaskManager = "taskmanager"

	typeNative     = "flink-native-kubernetes"
	typeStandalone = "flink-standalone-kubernetes"

	mainContainer = "flink-main-container"
)

// configMapName is the Flink configuration ConfigMap of a cluster.
func configMapName(name string) string { return "flink-config-" + name }

// parseFlinkConfig reads a Flink config.yaml or flink-conf.yaml (flat or
// nested YAML) into flat keys.
func parseFlinkConfig(text string) (map[string]string, error) {
	raw, err := yaml.YAMLToJSON([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("flink configuration: %w", err)
	}
	spec := flinkv1beta1.FlinkDeploymentSpec{FlinkConfiguration: &apiextensionsv1.JSON{Raw: raw}}
	return spec.FlatConfiguration()
}

// flinkConfigFrom returns the flat configuration of a cluster's ConfigMap.
func flinkConfigFrom(cm *corev1.ConfigMap) (map[string]string, error) {
	for _, key := range []string{"config.yaml", "flink-conf.yaml"} {
		if text, ok := cm.Data[key]; ok {
			return parseFlinkConfig(text)
		}
	}
	return nil, fmt.Errorf("ConfigMap %s/%s has neither config.yaml nor flink-conf.yaml", cm.Namespace, cm.Name)
}

// entrypoint is what a JobManager container was told to run.
type entrypoint struct {
	application           bool
	entryClass            string
	fromSavepoint         string
	allowNonRestoredState bool
	jobID                 string
	args                  []string
}

// parseEntrypoint reads a JobManager's command and args: standalone
// "standalone-job [--job-classname C] [--job-id J] [--fromSavepoint P]
// [--allowNonRestoredState] [--jars J] <args>" or "jobmanager", native
// "kubernetes-jobmanager.sh kubernetes-application|kubernetes-session".
func parseEntrypoint(d *appsv1.Deployment) (entrypoint, error) {
	c := flinkContainer(&d.Spec.Template.Spec)
	if c == nil {
		return entrypoint{}, fmt.Errorf("deployment %s has no containers", d.Name)
	}
	words := append(append([]string{}, c.Command...), c.Args...)
	for i, w := range words {
		switch w {
		case "kubernetes-application":
			return entrypoint{application: true}, nil
		case "kubernetes-session", "jobmanager":
			return entrypoint{}, nil
		case "standalone-job":
			return parseStandaloneJob(words[i+1:]), nil
		}
	}
	return entrypoint{}, fmt.Errorf("deployment %s: JobManager command %q is neither standalone-job, jobmanager, kubernetes-application nor kubernetes-session", d.Name, strings.Join(words, " "))
}

func parseStandaloneJob(words []string) entrypoint {
	ep := entrypoint{application: true}
	for i := 0; i < len(words); i++ {
		switch w := words[i]; {
		case (w == "--job-classname" || w == "-j") && i+1 < len(words):
			ep.entryClass = words[i+1]
			i++
		case (w == "--fromSavepoint" || w == "-s") && i+1 < len(words):
			ep.fromSavepoint = words[i+1]
			i++
		case w == "--allowNonRestoredState" || w == "-n":
			ep.allowNonRestoredState = true
		case (w == "--job-id" || w == "-jid") && i+1 < len(words):
			ep.jobID = words[i+1]
			i++
		case (w == "--jars" || w == "-jars") && i+1 < len(words):
			i++ // the job's classpath: nothing to simulate
		case strings.HasPrefix(w, "--job-classname="):
			ep.entryClass = strings.TrimPrefix(w, "--job-classname=")
		case strings.HasPrefix(w, "--fromSavepoint="):
			ep.fromSavepoint = strings.TrimPrefix(w, "--fromSavepoint=")
		default:
			ep.args = append(ep.args, w)
		}
	}
	return ep
}

// flinkContainer returns flink-main-container, else the first container.
func flinkContainer(spec *corev1.PodSpec) *corev1.Container {
	for i := range spec.Containers {
		if spec.Containers[i].Name == mainContainer {
			return &spec.Containers[i]
		}
	}
	if len(spec.Containers) > 0 {
		return &spec.Containers[0]
	}
	return nil
}

var imageVersion = regexp.MustCompile(`:(\d+\.\d+(\.\d+)?)`)

// flinkVersion guesses the Flink version from the image tag ("flink:1.17",
// "flink:1.19.1-scala_2.12"), defaulting to 1.19.1.
func flinkVersion(d *appsv1.Deployment) string {
	if c := flinkContainer(&d.Spec.Template.Spec); c != nil {
		if m := imageVersion.FindStringSubmatch(c.Image); m != nil {
			return m[1]
		}
	}
	return "1.19.1"
}

// haEnabled reports whether Kubernetes HA is configured.
func haEnabled(conf map[string]string) bool {
	for _, k := range []string{"high-availability.type", "high-availability"} {
		switch v := strings.ToLower(conf[k]); {
		case v == "", v == "none":
		default:
			return true
		}
	}
	return false
}

// flinkDuration parses a Flink duration: "10 s", "1min", "500ms" or plain
// milliseconds.
func flinkDuration(v string) (time.Duration, error) {
	v = strings.ReplaceAll(strings.TrimSpace(v), " ", "")
	if v == "" {
		return 0, nil
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(ms) * time.Millisecond, nil
	}
	for _, u := range []struct{ long, short string }{
		{"minutes", "m"}, {"minute", "m"}, {"mins", "m"}, {"min", "m"},
		{"seconds", "s"}, {"second", "s"}, {"secs", "s"}, {"sec", "s"},
		{"hours", "h"}, {"hour", "h"},
	} {
		if strings.HasSuffix(v, u.long) {
			v = strings.TrimSuffix(v, u.long) + u.short
			break
		}
	}
	return time.ParseDuration(v)
}

func atoi(v string, def int) int {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		return n
	}
	return def
}

// clusterConfig is what a JobManager Deployment and its ConfigMap say.
type clusterConfig struct {
	jobmanager.Config
	restPort int
	ha       bool
}

// buildClusterConfig derives a simulated JobManager's configuration from
// the JobManager Deployment and the Flink configuration. restore is the
// latest HA checkpoint, if any; it wins over a savepoint path, as in Flink.
func buildClusterConfig(d *appsv1.Deployment, conf map[string]string, restore *jobmanager.Restore, o Options) (clusterConfig, error) {
	ep, err := parseEntrypoint(d)
	if err != nil {
		return clusterConfig{}, err
	}
	clusterID := conf["kubernetes.cluster-id"]
	if clusterID == "" {
		clusterID = d.Name
	}
	cc := clusterConfig{restPort: atoi(conf["rest.port"], 8081), ha: haEnabled(conf)}
	interval, err := flinkDuration(conf["execution.checkpointing.interval"])
	if err != nil {
		return clusterConfig{}, fmt.Errorf("execution.checkpointing.interval: %w", err)
	}
	if o.CheckpointInterval > 0 {
		interval = o.CheckpointInterval
	}
	cc.Config = jobmanager.Config{
		ClusterID:           clusterID,
		FlinkVersion:        flinkVersion(d),
		Application:         ep.application,
		SlotsPerTaskManager: atoi(conf["taskmanager.numberOfTaskSlots"], 1),
		Native:              d.Labels[labelType] == typeNative,
		Reactive:            strings.EqualFold(conf["scheduler-mode"], "reactive"),
		Adaptive:            strings.EqualFold(conf["scheduler-mode"], "reactive") || strings.EqualFold(strings.TrimSpace(conf["jobmanager.scheduler"]), "adaptive"),
		SavepointDir:        conf["state.savepoints.dir"],
		CheckpointDir:       conf["state.checkpoints.dir"],
		CheckpointInterval:  interval,
		StartDelay:          o.StartDelay,
		SavepointDuration:   o.SavepointDuration,
		CancelDelay:         o.CancelDelay,
	}
	if !ep.application {
		return cc, nil
	}
	job := jobmanager.JobSpec{
		JobID:       firstNonEmpty(ep.jobID, conf["$internal.pipeline.job-id"]),
		EntryClass:  firstNonEmpty(ep.entryClass, conf["$internal.application.main"]),
		Args:        ep.args,
		Parallelism: atoi(conf["parallelism.default"], 1),
		// Flink sets each vertex's parallelism from these at submission.
		ParallelismOverrides: conf["pipeline.jobvertex-parallelism-overrides"],
	}
	if after, ok := conf[BoundedJobKey]; ok {
		d, err := time.ParseDuration(after)
		if err != nil {
			return cc, fmt.Errorf("%s: %w", BoundedJobKey, err)
		}
		job.Bounded, job.FinishAfter = true, d
	}
	if len(job.Args) == 0 && conf["$internal.application.program-args"] != "" {
		job.Args = strings.Split(conf["$internal.application.program-args"], ";")
	}
	if job.JobID == "" && cc.ha {
		job.JobID = fixedJobID(clusterID)
	}
	sp := firstNonEmpty(ep.fromSavepoint, conf["execution.savepoint.path"])
	allow := ep.allowNonRestoredState || strings.EqualFold(conf["execution.savepoint.ignore-unclaimed-state"], "true")
	switch {
	case restore != nil:
		r := *restore
		job.Restore = &r
	case sp != "":
		job.Restore = &jobmanager.Restore{Path: sp, IsSavepoint: true, AllowNonRestoredState: allow}
	}
	cc.Job = job
	return cc, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// fixedJobID is the job id Flink gives an application job under HA: both
// halves of the JobID are the Java hashCode of the cluster id.
func fixedJobID(clusterID string) string {
	var h int32
	for _, r := range clusterID {
		h = 31*h + int32(r)
	}
	half := fmt.Sprintf("%016x", uint64(int64(h)))
	return half + half
}
