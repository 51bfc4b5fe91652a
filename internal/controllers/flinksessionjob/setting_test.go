package flinksessionjob

import (
	"testing"

	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// TestSettingUnderADeprecatedName: a session job's operator setting is
// read under the name upstream deprecated for it too, as a
// FlinkDeployment's is (plan.OperatorSetting) and as upstream's
// configuration reads it: from the job's configuration, its session
// cluster's or the member's defaults, the job's first and the current
// name first within each. Before, a session job read only the current
// name, so a cancel timeout set under its old one was ignored.
func TestSettingUnderADeprecatedName(t *testing.T) {
	const old = flinkconf.OperatorKeyPrefix + "reconciler.flink.cancel.job.timeout"
	for _, tc := range []struct {
		name, job, session, member, want, from string
	}{
		{"job, old name", `{"` + old + `":"3 s"}`, "", "", "3 s", "spec.flinkConfiguration"},
		{"session cluster, old name", "", `{"` + old + `":"4 s"}`, "", "4 s", "session cluster session's spec.flinkConfiguration"},
		{"defaults, old name", "", "", `{"` + old + `":"5 s"}`, "5 s", "the member's default configuration"},
		{"current name first", `{"` + old + `":"3 s","` + flinkconf.KeyCancelTimeout + `":"6 s"}`, "", "", "6 s", "spec.flinkConfiguration"},
		{"job over session cluster", `{"` + old + `":"3 s"}`, `{"` + flinkconf.KeyCancelTimeout + `":"4 s"}`, "", "3 s", "spec.flinkConfiguration"},
		{"unset", "", "", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := restoreState(t, "v1_20", "", tc.job, tc.session, tc.member)
			if v, from := s.lookup(flinkconf.KeyCancelTimeout); v != tc.want || from != tc.from {
				t.Errorf("lookup: %q from %q, want %q from %q", v, from, tc.want, tc.from)
			}
		})
	}
}
