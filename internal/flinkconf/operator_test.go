package flinkconf

import (
	"slices"
	"testing"
)

func TestUnknownOperatorSettings(t *testing.T) {
	conf := map[string]string{
		"kubernetes.operator.periodic.savepoint.interval":     "1h",   // read
		"kubernetes.operator.periodic.savepont.interval":      "1h",   // a typo
		"kubernetes.operator.job.autoscaler.enabled":          "true", // upstream, not here
		"taskmanager.numberOfTaskSlots":                       "2",    // Flink's
		"kubernetes.operator.session.block-on-unmanaged-jobs": "false",
	}
	got := UnknownOperatorSettings(conf)
	want := []string{"kubernetes.operator.job.autoscaler.enabled", "kubernetes.operator.periodic.savepont.interval"}
	if !slices.Equal(got, want) {
		t.Errorf("UnknownOperatorSettings = %v, want %v", got, want)
	}
}
