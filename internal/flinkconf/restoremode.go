package flinkconf

import (
	"fmt"
	"strconv"
	"strings"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

// The keys of the mode a job restores from a savepoint or retained
// checkpoint in (FLIP-193, Flink 1.15). Flink 1.20 renamed the key; it
// still reads the old one when the new one is unset.
const (
	KeySavepointRestoreMode = "execution.savepoint-restore-mode"
	KeyClaimMode            = "execution.state-recovery.claim-mode"
)

// RestoreModes are the modes Flink restores in, NO_CLAIM its default.
var RestoreModes = []string{"CLAIM", "NO_CLAIM", "LEGACY"}

// maxShownMode bounds a refused mode's value in a message.
const maxShownMode = 64

// ParseRestoreMode reads a restore mode as Flink reads an enum option:
// white space around it and the case do not matter. It returns the mode
// as Flink names it, or an error that quotes the value (bounded).
func ParseRestoreMode(value string) (string, error) {
	v := strings.ToUpper(strings.TrimSpace(value))
	for _, m := range RestoreModes {
		if v == m {
			return m, nil
		}
	}
	shown := value
	if len(shown) > maxShownMode {
		shown = shown[:maxShownMode] + "..."
	}
	return "", fmt.Errorf("%s is not a restore mode: one of %s", strconv.Quote(shown), strings.Join(RestoreModes, ", "))
}

// RestoreModeKeys are the keys Flink v reads the restore mode from, in
// the order it reads them; none before 1.15.
func RestoreModeKeys(v v1beta1.FlinkVersion) []string {
	switch {
	case v.IsEqualOrNewer("v1_20"):
		return []string{KeyClaimMode, KeySavepointRestoreMode}
	case v.IsEqualOrNewer("v1_15"):
		return []string{KeySavepointRestoreMode}
	}
	return nil
}

// RestoreMode is the restore mode that get's configuration sets for
// Flink v, read as Flink v reads it (RestoreModeKeys), with the key it
// came from; "" and no key when none is set (Flink's default, NO_CLAIM,
// applies) or Flink v has none.
func RestoreMode(v v1beta1.FlinkVersion, get func(key string) string) (mode, key string, err error) {
	for _, k := range RestoreModeKeys(v) {
		if value := get(k); strings.TrimSpace(value) != "" {
			mode, err := ParseRestoreMode(value)
			return mode, k, err
		}
	}
	return "", "", nil
}
