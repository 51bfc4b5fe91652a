package flinksessionjob

import (
	"fmt"
	"slices"
	"strings"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
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
// applied (kubernetes.operator.* keys are the hub's and still apply).
func (r *Reconciler) runConfiguration(s *state) map[string]string {
	conf, _ := s.job.Spec.FlatConfiguration()
	v := s.session.Spec.FlinkVersion
	if len(conf) == 0 || v.IsEqualOrNewer(jarRunConfigurationSince) {
		return conf
	}
	var keys []string
	for k := range conf {
		if !strings.HasPrefix(k, flinkconf.OperatorKeyPrefix) {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		r.event(s, "Warning", "FlinkConfigurationNotApplied", notApplied(s.session.Name, v, keys))
	}
	return nil
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
