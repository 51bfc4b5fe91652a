package problem

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEncodeWritesTheApacheOperatorsExceptionJSON(t *testing.T) {
	cases := []struct {
		name     string
		p        Problem
		wantType string
	}{
		{"validation", New(InvalidSpec, `invalid spec: spec.job.parallelism: Invalid value: "x"`), "org.apache.flink.kubernetes.operator.exception.ValidationException"},
		{"deployment", New(JobManagerDeploymentFailed, "JobManager deployment x failed: [c] CrashLoop"), "org.apache.flink.kubernetes.operator.exception.DeploymentFailedException"},
		{"restore", New(ManualRestoreRequired, "Manual restore required."), "org.apache.flink.kubernetes.operator.exception.UpgradeFailureException"},
		{"other", New(SavepointFailed, "savepoint failed: disk full"), "org.apache.flink.kubernetes.operator.exception.ReconciliationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got struct {
				Type               string            `json:"type"`
				Message            string            `json:"message"`
				AdditionalMetadata map[string]string `json:"additionalMetadata"`
			}
			if err := json.Unmarshal([]byte(Encode(tc.p)), &got); err != nil {
				t.Fatalf("status.error is not JSON: %v", err)
			}
			if got.Type != tc.wantType || got.Message != tc.p.Message || got.AdditionalMetadata["reason"] != string(tc.p.Reason) {
				t.Errorf("got %+v", got)
			}
			if back := Decode(Encode(tc.p)); !back.Same(tc.p) {
				t.Errorf("round trip: %+v, want %+v", back, tc.p)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want Problem
	}{
		{"none", "", Problem{}},
		{"an older hub's plain text", "savepoint failed: disk full", New(Unknown, "savepoint failed: disk full")},
		{"the Apache operator's exception", `{"type":"org.apache.flink.kubernetes.operator.exception.ReconciliationException","message":"Deployment failed","throwableList":[{"type":"java.lang.Exception","message":"x"}]}`, Problem{Reason: Unknown, Message: "Deployment failed", Causes: "java.lang.Exception: x"}},
		{"JSON without a message", `{"type":"x"}`, New(Unknown, `{"type":"x"}`)},
		{"the hub's own", Encode(New(JobFailed, "Job failed: boom")), New(JobFailed, "Job failed: boom")},
		{"a failure count", Encode(Problem{Reason: SavepointFailed, Message: "m", Failures: 3}), Problem{Reason: SavepointFailed, Message: "m", Failures: 3}},
		{"a negative failure count", `{"message":"m","additionalMetadata":{"reason":"SavepointFailed","failures":-4}}`, New(SavepointFailed, "m")},
		{"a huge failure count", `{"message":"m","additionalMetadata":{"reason":"SavepointFailed","failures":1e300}}`, Problem{Reason: SavepointFailed, Message: "m", Failures: maxFailures}},
		{"a failure count that is not a number", `{"message":"m","additionalMetadata":{"reason":"SavepointFailed","failures":"3"}}`, New(SavepointFailed, "m")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decode(tc.in); got != tc.want {
				t.Errorf("Decode(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestEncodeOfNoProblemIsEmpty(t *testing.T) {
	if got := Encode(Problem{}); got != "" {
		t.Errorf("Encode(none) = %q", got)
	}
}

func TestIsAndEventReason(t *testing.T) {
	p := New(CheckpointFailed, "checkpoint failed: x")
	if !p.Is(SavepointFailed, CheckpointFailed) || p.Is(SavepointFailed) || (Problem{}).Is(Unknown) {
		t.Error("Is")
	}
	if p.EventReason() != "CheckpointError" || New(JobFailed, "").EventReason() != "JobFailed" {
		t.Errorf("event reasons %q %q", p.EventReason(), New(JobFailed, "").EventReason())
	}
	if got := (Problem{Reason: JobManagerDeploymentFailed, Message: "m", Event: "CrashLoopBackOff"}).EventReason(); got != "CrashLoopBackOff" {
		t.Errorf("explicit event reason %q", got)
	}
}

// TestEncodeWithExceptionOptions: upstream's exception.* settings shape
// status.error: the stack trace only when enabled and cut, every field cut,
// the causes in throwableList up to the count, labels of matching
// patterns; and status.error reads back to the same problem, so a
// rewrite changes nothing.
func TestEncodeWithExceptionOptions(t *testing.T) {
	trace := "org.apache.flink.runtime.JobException: Recovery is suppressed\n\tat a.b(C.java:1)\nCaused by: java.io.IOException: bucket gone\n\tat x.y(Z.java:2)\nCaused by: java.net.UnknownHostException: s3.example\nCaused by: java.lang.Error: third"
	p := WithTrace(New(JobFailed, "Job failed: org.apache.flink.runtime.JobException: Recovery is suppressed"), trace)
	labels := map[*regexp.Regexp]string{regexp.MustCompile("bucket"): "storage", regexp.MustCompile("^never$"): "never"}
	for _, tc := range []struct {
		name      string
		o         ExceptionOptions
		wantTrace string
		wantMsg   string
		wantTypes []string
		wantLabel []any
	}{
		{name: "defaults", o: DefaultExceptionOptions(), wantMsg: p.Message, wantTypes: []string{"java.io.IOException", "java.net.UnknownHostException"}},
		{name: "stack trace, cut", o: ExceptionOptions{StackTrace: true, StackTraceMax: 30, FieldMax: 2048, ThrowableMax: 1}, wantTrace: trace[:27] + "...", wantMsg: p.Message, wantTypes: []string{"java.io.IOException"}},
		{name: "fields cut, labels", o: ExceptionOptions{FieldMax: 10, ThrowableMax: 0, Labels: labels}, wantMsg: p.Message[:7] + "...", wantLabel: []any{"storage"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := EncodeWith(p, tc.o)
			var got exception
			if err := json.Unmarshal([]byte(raw), &got); err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, e := range got.ThrowableList {
				types = append(types, e.Type)
			}
			if got.StackTrace != tc.wantTrace || got.Message != tc.wantMsg || !slices.Equal(types, tc.wantTypes) {
				t.Errorf("stack trace %q, message %q, causes %v", got.StackTrace, got.Message, types)
			}
			if l, _ := got.AdditionalMetadata["labels"].([]any); !slices.Equal(l, tc.wantLabel) {
				t.Errorf("labels %v, want %v", got.AdditionalMetadata["labels"], tc.wantLabel)
			}
			if again := EncodeWith(Decode(raw), tc.o); again != raw {
				t.Errorf("a rewrite changes status.error:\n%s\n%s", raw, again)
			}
		})
	}
}

// TestRedactURI: a URI is shown without its userinfo, and one that does
// not parse, or an opaque one with an '@', not at all.
func TestRedactURI(t *testing.T) {
	for uri, want := range map[string]string{
		"https://deploy:hunter2@artifacts.example.com/job.jar?v=1": "https://artifacts.example.com/job.jar?v=1",
		"ftp://deploy@artifacts.example.com/job.jar":               "ftp://artifacts.example.com/job.jar",
		"https://deploy:hunter2@artifacts.example.com:80a/job.jar": "(unparsable URI)",
		"s3:deploy:hunter2@bucket/job.jar":                         "s3:(redacted)",
		"local:///opt/flink/job.jar":                               "local:///opt/flink/job.jar",
		"":                                                         "",
	} {
		if got := RedactURI(uri); got != want {
			t.Errorf("RedactURI(%q) = %q, want %q", uri, got, want)
		}
	}
}

// TestEncodeIsBoundedWhateverTheSettings: field and stack trace limits of
// zero or less (which once left a field uncut: a 5 MiB message made a
// status.error the status write then failed on) are the defaults, and
// larger ones stop at MaxExceptionField; a cut field ends in "...".
func TestEncodeIsBoundedWhateverTheSettings(t *testing.T) {
	long := strings.Repeat("é", 50_000)
	p := WithTrace(New(JobFailed, long), long)
	for _, tc := range []struct {
		name           string
		o              ExceptionOptions
		message, trace int
	}{
		{"zero", ExceptionOptions{StackTrace: true}, 2048, 2048},
		{"negative", ExceptionOptions{StackTrace: true, FieldMax: -1, StackTraceMax: -5, ThrowableMax: -1}, 2048, 2048},
		{"huge", ExceptionOptions{StackTrace: true, FieldMax: 1 << 30, StackTraceMax: 1 << 30}, MaxExceptionField, MaxExceptionField},
		{"small", ExceptionOptions{StackTrace: true, FieldMax: 100, StackTraceMax: 10}, 100, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got exception
			if err := json.Unmarshal([]byte(EncodeWith(p, tc.o)), &got); err != nil {
				t.Fatal(err)
			}
			// Cut with the marker within the limit, on a character
			// boundary: a two-byte character may leave one byte unused.
			for _, f := range []struct {
				text  string
				limit int
			}{{got.Message, tc.message}, {got.StackTrace, tc.trace}} {
				if len(f.text) > f.limit || len(f.text) < f.limit-1 || !strings.HasSuffix(f.text, "...") || !utf8.ValidString(f.text) {
					t.Errorf("field of %d bytes (%q...), want %d at most, cut at a character and marked", len(f.text), f.text[:min(len(f.text), 8)], f.limit)
				}
			}
		})
	}
}

func TestRepeated(t *testing.T) {
	counted := func(r Reason, n int) Problem { return Problem{Reason: r, Message: "m", Failures: n} }
	cases := []struct {
		name string
		prev Problem
		want Problem
	}{
		{"no problem before", Problem{}, Problem{Reason: SavepointFailed, Message: "savepoint failed (once): disk full; next", Failures: 1}},
		{"one failure before", counted(SavepointFailed, 1), Problem{Reason: SavepointFailed, Message: "savepoint failed (2 times in a row): disk full; next", Failures: 2}},
		{"many failures before", counted(SavepointFailed, 41), Problem{Reason: SavepointFailed, Message: "savepoint failed (42 times in a row): disk full; next", Failures: 42}},
		{"an older hub's report, not counted", New(SavepointFailed, "savepoint failed: disk full"), Problem{Reason: SavepointFailed, Message: "savepoint failed (2 times in a row): disk full; next", Failures: 2}},
		{"another reason's count ends the row", counted(CheckpointFailed, 5), Problem{Reason: SavepointFailed, Message: "savepoint failed (once): disk full; next", Failures: 1}},
		{"another problem ends the row", New(JobFailed, "Job failed: x"), Problem{Reason: SavepointFailed, Message: "savepoint failed (once): disk full; next", Failures: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Repeated(tc.prev, SavepointFailed, "savepoint", "disk full; next")
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if back := Decode(Encode(got)); back != got {
				t.Errorf("status.error does not keep the count: %+v, want %+v", back, got)
			}
		})
	}
}
