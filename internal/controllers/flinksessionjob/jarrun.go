package flinksessionjob

import (
	"fmt"
	"slices"
	"strings"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// jarRunConfigurationSince is the first Flink release whose jar run takes
// the job's configuration (JarRunRequestBody.flinkConfiguration,
// FLINK-29543).
const jarRunConfigurationSince v1beta1.FlinkVersion = "v1_17"

// maxNamedKeys bounds the keys an event names.
const maxNamedKeys = 10

// runConfiguration is the flinkConfiguration the jar run of s's job
// sends: the job's configuration, on a session cluster of Flink 1.17 or
// newer. An older Flink refuses a jar run that has the field (its REST
// handlers fail on unknown body fields, 400), so nothing is sent, as
// upstream sends nothing before 1.17: the job runs with the session
// cluster's configuration, and a warning event names the keys not
// applied (kubernetes.operator.* keys are the hub's and still apply, as
// does the restore mode, which goes in a field of its own). The jar
// fetch's HTTP headers are never sent: they are the artifact server's
// credentials, which Flink would show with the job's configuration.
func (r *Reconciler) runConfiguration(s *state) map[string]string {
	conf, _ := s.job.Spec.FlatConfiguration()
	delete(conf, flinkconf.KeyArtifactHTTPHeader)
	v := s.flinkVersion()
	if len(conf) == 0 || v.IsEqualOrNewer(jarRunConfigurationSince) {
		return conf
	}
	var keys []string
	for k := range conf {
		if !strings.HasPrefix(k, flinkconf.OperatorKeyPrefix) && !slices.Contains(flinkconf.RestoreModeKeys(v), k) {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		r.event(s, "Warning", "FlinkConfigurationNotApplied", notApplied(s.session.Name, v, keys))
	}
	return nil
}

// claimModeSince is the first Flink release whose jar run names the
// restore mode claimMode; restoreMode, from 1.15 on, is deprecated then.
const claimModeSince v1beta1.FlinkVersion = "v1_20"

// jarRunBody is the jar run of s's job with configuration conf: its
// recorded id, entry class, args and parallelism, and the recorded path
// to restore from with allowNonRestoredState and the restore mode. The
// mode is the one the job's configuration sets, else its session
// cluster's, else the member's default, read under the keys the session
// cluster's Flink reads; it goes in the field that Flink has (restoreMode
// from 1.15, claimMode from 1.20), none when unset (Flink's own
// configuration decides, NO_CLAIM by default) or without a path. A mode
// that is not one is an error naming where it was set.
func jarRunBody(s *state, conf map[string]string) (api.JarRunRequestBody, error) {
	job, js := s.job.Spec.Job, &s.job.Status.JobStatus
	req := api.JarRunRequestBody{JobId: api.JobID(js.JobID), EntryClass: job.EntryClass, ProgramArgsList: job.Args, Parallelism: int32(job.Parallelism),
		SavepointPath: js.UpgradeSavepointPath, AllowNonRestoredState: job.AllowNonRestoredState != nil && *job.AllowNonRestoredState, FlinkConfiguration: conf}
	v := s.flinkVersion()
	mode, key, err := flinkconf.RestoreMode(v, s.setting)
	switch {
	case err != nil:
		_, source := s.lookup(key)
		return req, fmt.Errorf("%s: %s: %w", source, key, err)
	case mode == "" || req.SavepointPath == "":
	case v.IsEqualOrNewer(claimModeSince):
		req.ClaimMode = api.RestoreMode(mode)
	default:
		req.RestoreMode = api.RestoreMode(mode)
	}
	return req, nil
}

// flinkVersion is the Flink version of the JobManager the job runs on:
// the session cluster's deployed one (its last reconciled spec's), else
// its spec's.
func (s *state) flinkVersion() v1beta1.FlinkVersion {
	if v := s.deployedSession().FlinkVersion; v != "" {
		return v
	}
	return s.session.Spec.FlinkVersion
}

// deployedSession is the spec the session cluster runs: its last
// reconciled one, else (none yet, or one that cannot be read) its spec.
func (s *state) deployedSession() *v1beta1.FlinkDeploymentSpec {
	deployed, _, err := plan.DecodeSpec(s.session.Status.ReconciliationStatus.LastReconciledSpec)
	if err == nil && deployed != nil {
		return deployed
	}
	return &s.session.Spec
}

// notApplied says that Flink v of session cluster session does not apply
// the job's configuration keys (their values never named: they may be
// secret), and what to do.
func notApplied(session string, v v1beta1.FlinkVersion, keys []string) string {
	slices.Sort(keys)
	named := strings.Join(keys[:min(len(keys), maxNamedKeys)], ", ")
	if len(keys) > maxNamedKeys {
		named += fmt.Sprintf(" and %d more", len(keys)-maxNamedKeys)
	}
	return fmt.Sprintf("spec.flinkConfiguration not applied to the job: session cluster %s runs Flink %s, whose jar run takes no configuration (Flink takes it from 1.17 on); "+
		"the job runs with the session cluster's configuration. Not applied: %s. Set them in the session cluster's FlinkDeployment, or upgrade it to Flink 1.17 or newer",
		session, v.Number(), named)
}
