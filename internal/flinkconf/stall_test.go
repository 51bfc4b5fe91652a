package flinkconf

import (
	"testing"
	"time"
)

func TestSnapshotStalled(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name           string
		timeout, after time.Duration
		stalled        bool
		limit          time.Duration
	}{
		{"Flink's default, within", 0, 10*time.Minute + 5*time.Second, false, DefaultCheckpointTimeout},
		{"Flink's default, past it and the slack", 0, 10*time.Minute + 11*time.Second, true, DefaultCheckpointTimeout},
		{"a set timeout, within", 30 * time.Second, 35 * time.Second, false, 30 * time.Second},
		{"a set timeout, past", 30 * time.Second, 41 * time.Second, true, 30 * time.Second},
	} {
		waited, limit, stalled := SnapshotStalled(tc.timeout, start, start.Add(tc.after), 10*time.Second)
		if stalled != tc.stalled || limit != tc.limit || waited != tc.after {
			t.Errorf("%s: (%s, %s, %v), want (%s, %s, %v)", tc.name, waited, limit, stalled, tc.after, tc.limit, tc.stalled)
		}
	}
}
