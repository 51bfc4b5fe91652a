package snapshots

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/problem"
)

func TestTrimHistory(t *testing.T) {
	now := time.UnixMilli(10_000_000)
	sp := func(ageMinutes int) v1beta1.Savepoint {
		return v1beta1.Savepoint{TimeStamp: now.Add(-time.Duration(ageMinutes) * time.Minute).UnixMilli()}
	}
	settings := func(conf map[string]string) Setting { return func(k string) string { return conf[k] } }
	cases := []struct {
		name    string
		history []v1beta1.Savepoint
		conf    map[string]string
		want    []int64 // timestamps kept, oldest first
	}{
		{"defaults keep ten of the last day", []v1beta1.Savepoint{sp(2000), sp(30), sp(20), sp(10)}, nil,
			[]int64{sp(30).TimeStamp, sp(20).TimeStamp, sp(10).TimeStamp}},
		{"max count keeps the newest", []v1beta1.Savepoint{sp(30), sp(20), sp(10)}, map[string]string{"kubernetes.operator.savepoint.history.max.count": "2"},
			[]int64{sp(20).TimeStamp, sp(10).TimeStamp}},
		{"max age drops the old", []v1beta1.Savepoint{sp(30), sp(20), sp(10)}, map[string]string{"kubernetes.operator.savepoint.history.max.age": "15m"},
			[]int64{sp(10).TimeStamp}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := TrimHistory(tc.history, settings(tc.conf), now)
			if len(got) != len(tc.want) {
				t.Fatalf("kept %d, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i].TimeStamp != tc.want[i] {
					t.Errorf("entry %d = %d, want %d", i, got[i].TimeStamp, tc.want[i])
				}
			}
		})
	}
}

func TestPeriodicWait(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	const start = "900000" // the job started 100 s ago
	for _, tc := range []struct {
		name string
		last int64
		job  string
		want time.Duration
	}{
		{"first, counted from the job's start", 0, start, 20 * time.Second},
		{"first, job start unknown: due", 0, "", -880 * time.Second},
		{"after the last one", 990_000, start, 110 * time.Second},
		{"overdue", 800_000, start, -80 * time.Second},
	} {
		if got := PeriodicWait(tc.last, tc.job, 2*time.Minute, now); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestCheckpointType(t *testing.T) {
	for conf, want := range map[string]v1beta1.CheckpointType{"": v1beta1.CheckpointFull, "incremental": v1beta1.CheckpointIncremental, " INCREMENTAL ": v1beta1.CheckpointIncremental, "FULL": v1beta1.CheckpointFull} {
		if got := CheckpointType(func(string) string { return conf }); got != want {
			t.Errorf("%q: %s, want %s", conf, got, want)
		}
	}
}

func TestTrimDisposes(t *testing.T) {
	now := time.UnixMilli(10_000_000)
	sp := func(path string, ageMinutes int) v1beta1.Savepoint {
		return v1beta1.Savepoint{Location: path, TimeStamp: now.Add(-time.Duration(ageMinutes) * time.Minute).UnixMilli()}
	}
	history := []v1beta1.Savepoint{sp("a", 40), sp("b", 30), sp("c", 20), sp("d", 10)}
	two := map[string]string{"kubernetes.operator.savepoint.history.max.count": "2"}
	for _, tc := range []struct {
		name         string
		conf         map[string]string
		failing      string
		keep         []string
		wantKept     []string
		wantDisposed []string
		wantFailed   int
		gone         string
		wantGone     int
	}{
		{name: "dropped ones are disposed of", conf: two, wantKept: []string{"c", "d"}, wantDisposed: []string{"a", "b"}},
		{name: "cleanup off: only forgotten", conf: map[string]string{"kubernetes.operator.savepoint.history.max.count": "2", "kubernetes.operator.savepoint.cleanup.enabled": "false"}, wantKept: []string{"c", "d"}},
		{name: "a failed disposal stays for the next trim", conf: two, failing: "a", wantKept: []string{"a", "c", "d"}, wantDisposed: []string{"b"}, wantFailed: 1},
		{name: "a savepoint whose files are gone is dropped, not tried again", conf: two, gone: "a", wantKept: []string{"c", "d"}, wantDisposed: []string{"b"}, wantGone: 1},
		{name: "a savepoint a restore names is kept", conf: two, keep: []string{"b"}, wantKept: []string{"b", "c", "d"}, wantDisposed: []string{"a"}},
		{name: "within the limits nothing goes", wantKept: []string{"a", "b", "c", "d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dispose := func(_ context.Context, path string) error {
				switch path {
				case tc.failing:
					return errors.New("JobManager unreachable")
				case tc.gone:
					return fmt.Errorf("%w: FileNotFoundException", ErrGone)
				}
				return nil
			}
			got := Trim(context.Background(), history, func(k string) string { return tc.conf[k] }, now, dispose, tc.keep...)
			var keptPaths []string
			for _, k := range got.Kept {
				keptPaths = append(keptPaths, k.Location)
			}
			if !slices.Equal(keptPaths, tc.wantKept) || !slices.Equal(got.Disposed, tc.wantDisposed) || len(got.Failed) != tc.wantFailed || len(got.Gone) != tc.wantGone {
				t.Errorf("kept %v, disposed %v, failed %v, gone %v; want %v, %v, %d failures, %d gone", keptPaths, got.Disposed, got.Failed, got.Gone, tc.wantKept, tc.wantDisposed, tc.wantFailed, tc.wantGone)
			}
			if want := append(slices.Clone(tc.wantDisposed), tc.gone); tc.gone != "" && !slices.Equal(got.Dropped(), want) {
				t.Errorf("dropped %v, want %v", got.Dropped(), want)
			}
		})
	}
}

func TestCheckpointTriggerSupported(t *testing.T) {
	for _, tc := range []struct {
		version v1beta1.FlinkVersion
		want    bool
	}{{"v1_13", false}, {"v1_16", false}, {"v1_17", true}, {"v1_20", true}, {"v2_2", true}, {"", true}} {
		if got := CheckpointTriggerSupported(tc.version); got != tc.want {
			t.Errorf("CheckpointTriggerSupported(%q) = %v, want %v", tc.version, got, tc.want)
		}
	}
	if msg := CheckpointTriggerUnsupported("manual", "v1_16"); !strings.Contains(msg, "Flink 1.16 cannot take a checkpoint on request") {
		t.Errorf("message %q", msg)
	}
}

// periodicAttempt is a periodic savepoint (checkpoint) that failed at
// now, of a job started ten minutes before, the last periodic one taken
// at last (epoch milliseconds, 0 for none), every interval.
func periodicAttempt(now time.Time, checkpoint bool, last int64, interval string) Attempt {
	started := strconv.FormatInt(now.Add(-10*time.Minute).UnixMilli(), 10)
	key, js := "kubernetes.operator.periodic.savepoint.interval", &v1beta1.JobStatus{StartTime: started, SavepointInfo: &v1beta1.SavepointInfo{LastPeriodicSavepointTimestamp: last}}
	if checkpoint {
		key, js = "kubernetes.operator.periodic.checkpoint.interval", &v1beta1.JobStatus{StartTime: started, CheckpointInfo: &v1beta1.CheckpointInfo{LastPeriodicCheckpointTimestamp: last}}
	}
	return Attempt{Checkpoint: checkpoint, Trigger: v1beta1.TriggerPeriodic, Now: now, ReconcileInterval: time.Minute,
		Setting: func(k string) string { return map[string]string{key: interval}[k] }, Job: js}
}

// TestRetryAfter: the hub looks again when the report says the next
// snapshot comes: a periodic one's next period, when sooner than the
// reconcile interval, else the reconcile interval.
func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		a    Attempt
		want time.Duration
	}{
		{"a periodic savepoint every 20 s", periodicAttempt(now, false, now.Add(-5*time.Second).UnixMilli(), "20 s"), 15 * time.Second},
		{"a periodic checkpoint every 30 s", periodicAttempt(now, true, now.Add(-10*time.Second).UnixMilli(), "30s"), 20 * time.Second},
		{"a periodic savepoint every 5 min", periodicAttempt(now, false, now.Add(-time.Minute).UnixMilli(), "5 min"), time.Minute},
		{"a periodic checkpoint overdue", periodicAttempt(now, true, now.Add(-time.Hour).UnixMilli(), "1 min"), 0},
		{"a periodic savepoint whose interval was unset", periodicAttempt(now, false, 0, ""), time.Minute},
		{"an upgrade's savepoint", Attempt{Trigger: v1beta1.TriggerUpgrade, Now: now, ReconcileInterval: time.Minute}, time.Minute},
		{"a manual checkpoint", Attempt{Checkpoint: true, Trigger: v1beta1.TriggerManual, Now: now, ReconcileInterval: time.Minute}, time.Minute},
	} {
		if got := tc.a.RetryAfter(); got != tc.want {
			t.Errorf("%s: RetryAfter %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestFailed(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	periodic := func(checkpoint bool, last int64, interval string) Attempt {
		return periodicAttempt(now, checkpoint, last, interval)
	}
	cases := []struct {
		name    string
		prev    problem.Problem
		a       Attempt
		reason  problem.Reason
		message string
	}{
		{"an upgrade's savepoint", problem.Problem{}, Attempt{Trigger: v1beta1.TriggerUpgrade, Now: now, ReconcileInterval: time.Minute}, problem.SavepointFailed,
			"savepoint failed (once): boom; the spec change is tried again with a new savepoint at 2026-12-07T10:01:00Z (the hub's --reconcile-interval); the job keeps running"},
		{"a deletion's savepoint, again", problem.Problem{Reason: problem.SavepointFailed, Message: "m", Failures: 2}, Attempt{Trigger: v1beta1.TriggerUpgrade, Deletion: true, Now: now, ReconcileInterval: time.Minute}, problem.SavepointFailed,
			"savepoint failed (3 times in a row): boom; the deletion is tried again with a new savepoint at 2026-12-07T10:01:00Z (the hub's --reconcile-interval); the job keeps running"},
		{"a periodic savepoint, an interval after the last", problem.Problem{}, periodic(false, now.Add(-time.Minute).UnixMilli(), "5 min"), problem.SavepointFailed,
			"savepoint failed (once): boom; the next periodic savepoint is at 2026-12-07T10:04:00Z"},
		{"a periodic checkpoint, the first counted from the job's start", problem.Problem{}, periodic(true, 0, "15m"), problem.CheckpointFailed,
			"checkpoint failed (once): boom; the next periodic checkpoint is at 2026-12-07T10:05:00Z"},
		{"a periodic checkpoint overdue is taken now", problem.Problem{Reason: problem.CheckpointFailed, Message: "m", Failures: 1}, periodic(true, now.Add(-time.Hour).UnixMilli(), "1 min"), problem.CheckpointFailed,
			"checkpoint failed (2 times in a row): boom; the next periodic checkpoint is at 2026-12-07T10:00:00Z"},
		{"a periodic savepoint whose interval was unset", problem.Problem{}, periodic(false, 0, ""), problem.SavepointFailed,
			"savepoint failed (once): boom; no periodic savepoint follows: its interval is unset"},
		{"a manual savepoint", problem.Problem{}, Attempt{Trigger: v1beta1.TriggerManual, Now: now}, problem.SavepointFailed,
			"savepoint failed (once): boom; it is not tried again: change job.savepointTriggerNonce to take another"},
		{"a manual checkpoint after a failed savepoint", problem.Problem{Reason: problem.SavepointFailed, Message: "m", Failures: 4}, Attempt{Checkpoint: true, Trigger: v1beta1.TriggerManual, Now: now}, problem.CheckpointFailed,
			"checkpoint failed (once): boom; it is not tried again: change job.checkpointTriggerNonce to take another"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Failed(tc.prev, tc.a, "boom")
			if got.Reason != tc.reason || got.Message != tc.message {
				t.Errorf("got %s %q, want %s %q", got.Reason, got.Message, tc.reason, tc.message)
			}
		})
	}
}

func TestFailedQuotesTheCauseWithinBounds(t *testing.T) {
	got := Failed(problem.Problem{}, Attempt{Trigger: v1beta1.TriggerManual}, "line one\nline two"+strings.Repeat("x", 4096))
	if strings.ContainsAny(got.Message, "\n") || !strings.HasSuffix(got.Message, "it is not tried again: change job.savepointTriggerNonce to take another") || len(got.Message) > maxCause+200 {
		t.Errorf("message of %d bytes %q: want the cause quoted on one line within %d bytes, the next try kept", len(got.Message), got.Message[:80], maxCause)
	}
}

func TestWithinGrace(t *testing.T) {
	now := time.UnixMilli(10_000_000)
	at := func(ago time.Duration) *int64 { ms := now.Add(-ago).UnixMilli(); return &ms }
	const key = "kubernetes.operator.savepoint.trigger.grace-period"
	cases := []struct {
		name      string
		grace     string
		triggered *int64
		want      bool
	}{
		{"no trigger time", "", nil, false},
		{"within upstream's default minute", "", at(59 * time.Second), true},
		{"past upstream's default minute", "", at(61 * time.Second), false},
		{"within a configured grace period", "5 min", at(4 * time.Minute), true},
		{"past a configured grace period", "10 s", at(11 * time.Second), false},
		{"an unreadable one is the default", "soon", at(30 * time.Second), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			setting := func(k string) string { return map[string]string{key: tc.grace}[k] }
			if got := WithinGrace(setting, key, tc.triggered, now); got != tc.want {
				t.Errorf("WithinGrace = %v, want %v", got, tc.want)
			}
		})
	}
}
