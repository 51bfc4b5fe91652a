package flinkconf

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// TestDeprecatedOperatorKeys: a setting is read under upstream's
// deprecated name too, checked as the setting, and its current name wins.
func TestDeprecatedOperatorKeys(t *testing.T) {
	old := "kubernetes.operator.session.block-on-unmanaged-jobs"
	if got := OperatorSetting(map[string]string{old: "false"}, KeyBlockOnUnmanagedJobs); got != "false" {
		t.Errorf("deprecated name not read: %q", got)
	}
	if got := OperatorSetting(map[string]string{old: "false", KeyBlockOnUnmanagedJobs: "true"}, KeyBlockOnUnmanagedJobs); got != "true" {
		t.Errorf("the current name does not win: %q", got)
	}
	if err := CheckOperatorSetting(old, "maybe"); err == nil {
		t.Error("a deprecated name's value is not checked")
	}
}

// TestSettingsTableIsTrue: docs/operator-settings.md marks read exactly the
// kubernetes.operator.* settings the hub reads.
func TestSettingsTableIsTrue(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "operator-settings.md"))
	if err != nil {
		t.Fatal(err)
	}
	marked := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		key := OperatorKeyPrefix + strings.Trim(strings.TrimSpace(cells[1]), "`")
		if strings.TrimSpace(cells[3]) == "read" {
			marked[key] = true
			if _, known := operatorSettings[key]; !known {
				t.Errorf("%s is marked read, but the hub does not read it", key)
			}
		}
	}
	for key := range operatorSettings {
		if !marked[key] {
			t.Errorf("the hub reads %s, but the table does not mark it read", key)
		}
	}
}

// TestExceptionOptions: the exception settings are read with upstream's
// defaults, and a label mapper that is not RE2 is refused.
func TestExceptionOptions(t *testing.T) {
	o := ExceptionOptions(map[string]string{KeyExceptionStackTrace: "true", KeyExceptionFieldMax: "100", KeyExceptionLabelMapper: "time(d|out):timeouts"})
	if !o.StackTrace || o.FieldMax != 100 || o.StackTraceMax != 2048 || o.ThrowableMax != 2 || len(o.Labels) != 1 {
		t.Errorf("options %+v", o)
	}
	for re, label := range o.Labels {
		if !re.MatchString("read timedout") || label != "timeouts" {
			t.Errorf("label mapper %v -> %q", re, label)
		}
	}
	if err := CheckOperatorSetting(KeyExceptionLabelMapper, "(unclosed:x"); err == nil {
		t.Error("a pattern that does not compile was accepted")
	}
}
