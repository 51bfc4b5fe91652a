package validation

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// ValidateSessionJob applies the rules of a FlinkSessionJob that need no
// other object: the namespace, a session cluster named, a job whose code
// the hub can run (validateSessionJar), a parallelism of at least 1 and a
// readable configuration; and, once the job was submitted, the same
// session cluster as its last reconciled spec names. Whether the session
// cluster exists is the controller's to say.
func ValidateSessionJob(job *v1beta1.FlinkSessionJob) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("spec")
	if err := ValidateNamespace(job.Namespace); err != nil {
		errs = append(errs, err)
	}
	if job.Spec.DeploymentName == "" {
		errs = append(errs, field.Required(sp.Child("deploymentName"), "the session cluster (a FlinkDeployment without a job) to run on"))
	} else if last := reconciled(job); last.DeploymentName != "" && last.DeploymentName != job.Spec.DeploymentName {
		// As upstream: the job runs on the session cluster it was
		// submitted to; moving it would leave that job there unmanaged.
		errs = append(errs, field.Forbidden(sp.Child("deploymentName"), fmt.Sprintf("The deploymentName can't be changed: the job was submitted to %q; "+
			"set it back, or delete this FlinkSessionJob and create one for the other session cluster", last.DeploymentName)))
	}
	if conf, err := job.Spec.FlatConfiguration(); err != nil {
		errs = append(errs, field.Invalid(sp.Child("flinkConfiguration"), "", err.Error()))
	} else {
		// Rollbacks are FlinkDeployments' only: HA is checked there.
		errs = append(errs, validateOperatorSettings(conf, true, sp.Child("flinkConfiguration"))...)
		errs = append(errs, validateRestoreModes(conf, sp.Child("flinkConfiguration"))...)
		errs = append(errs, validateParallelismOverrides(conf, sp.Child("flinkConfiguration"))...)
	}
	jp := sp.Child("job")
	j := job.Spec.Job
	switch {
	case j == nil:
		return append(errs, field.Required(jp, ""))
	default:
		errs = append(errs, validateSessionJar(jp, j)...)
	}
	if last := reconciled(job); last.Job != nil && v1beta1.NonceAsks(j.SavepointRedeployNonce, last.Job.SavepointRedeployNonce) && strings.TrimSpace(j.InitialSavepointPath) == "" {
		// As upstream's validateSpecChange, for session jobs too.
		errs = append(errs, field.Required(jp.Child("initialSavepointPath"), "a savepoint redeployment needs the savepoint to start from"))
	}
	if j.Parallelism < 1 {
		// As upstream's validateJobSpec, which a session job reaches
		// without TaskManager replicas: no fixed TaskManagers set a
		// session job's parallelism, so it must name one (0 is unset).
		errs = append(errs, field.Invalid(jp.Child("parallelism"), j.Parallelism, "Job parallelism must be larger than 0"))
	}
	return errs
}

// validateRestoreModes checks the restore mode keys a session job sets:
// the hub sends the mode with the jar run, and Flink refuses the run of
// a mode it does not know.
func validateRestoreModes(conf map[string]string, fp *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range []string{flinkconf.KeyClaimMode, flinkconf.KeySavepointRestoreMode} {
		if v, set := conf[k]; set {
			if _, err := flinkconf.ParseRestoreMode(v); err != nil {
				errs = append(errs, field.Invalid(fp.Key(k), "", err.Error()))
			}
		}
	}
	return errs
}

// reconciledSpec is what the session job's last reconciled spec
// (status.reconciliationStatus.lastReconciledSpec) says that its rules
// compare with.
type reconciledSpec struct {
	// DeploymentName is the session cluster the job was submitted to.
	DeploymentName string `json:"deploymentName"`
	// Job holds the savepoint redeploy nonce last handled.
	Job *struct {
		SavepointRedeployNonce *int64 `json:"savepointRedeployNonce,omitempty"`
	} `json:"job,omitempty"`
}

// reconciled is the session job's last reconciled spec, empty before the
// first submission or when it cannot be read (the controller reports
// that).
func reconciled(job *v1beta1.FlinkSessionJob) reconciledSpec {
	var last struct {
		Spec reconciledSpec `json:"spec"`
	}
	if json.Unmarshal([]byte(job.Status.ReconciliationStatus.LastReconciledSpec), &last) != nil {
		return reconciledSpec{}
	}
	return last.Spec
}

// validateSessionJar checks where a session job's code comes from: an http
// or https jar the hub fetches, a local:// jar inside the session
// cluster's image, or (no jarURI) the session cluster's classpath. The
// latter two run through a launcher jar that names no main class, so they
// need the entry class.
func validateSessionJar(jp *field.Path, j *v1beta1.JobSpec) field.ErrorList {
	var errs field.ErrorList
	local := j.JarURI == ""
	if j.JarURI != "" {
		shown := problem.RedactURI(j.JarURI)
		u, err := url.Parse(j.JarURI)
		switch {
		case err != nil:
			return append(errs, field.Invalid(jp.Child("jarURI"), shown, "not a URI"))
		case u.Scheme == "http" || u.Scheme == "https":
		case u.Scheme == "local":
			local = true
			if u.Host != "" || u.User != nil || !path.IsAbs(u.Path) || path.Clean(u.Path) != u.Path || !strings.HasSuffix(u.Path, ".jar") {
				errs = append(errs, field.Invalid(jp.Child("jarURI"), shown, "a local jar is local:///absolute/path/to/job.jar, a path inside the session cluster's image"))
			}
		default:
			return append(errs, field.NotSupported(jp.Child("jarURI"), shown, []string{"http://...", "https://...", "local:///..."}))
		}
	}
	if local && j.EntryClass == "" {
		errs = append(errs, field.Required(jp.Child("entryClass"), "a job from the session cluster's classpath or from a local:// jar needs its entry class: the hub does not read that jar's manifest"))
	}
	return errs
}

// validateParallelismOverrides checks pipeline.jobvertex-parallelism-overrides
// (flinkconf.ParallelismOverrides): tenant text the hub sends to Flink,
// with a job's submission and in an in-place rescale.
func validateParallelismOverrides(conf map[string]string, fp *field.Path) field.ErrorList {
	if _, err := flinkconf.ParallelismOverrides(conf); err != nil {
		return field.ErrorList{field.Invalid(fp.Key(flinkconf.KeyParallelismOverrides), conf[flinkconf.KeyParallelismOverrides], err.Error())}
	}
	return nil
}
