package waterfall

import (
	"bytes"
	"strings"
	"testing"

	"github.com/flink-hub/flink-hub/internal/observability/jaegerquery"
)

func span(id, parent, op string, start, dur int64, tags ...jaegerquery.KeyValue) jaegerquery.Span {
	s := jaegerquery.Span{SpanID: id, OperationName: op, StartTime: start, Duration: dur, Tags: tags}
	if parent != "" {
		s.References = []jaegerquery.Reference{{RefType: "CHILD_OF", SpanID: parent}}
	}
	return s
}

func tag(k string, v any) jaegerquery.KeyValue { return jaegerquery.KeyValue{Key: k, Value: v} }

func TestRender(t *testing.T) {
	tr := jaegerquery.Trace{TraceID: "abc", Spans: []jaegerquery.Span{
		// Out of order on purpose: rendering sorts by start.
		span("c", "a", "PATCH flinkdeployments/status", 900, 50, tag("flinkhub.cluster", "member-1"), tag("http.response.status_code", 200)),
		span("a", "", "Reconcile FlinkDeployment", 0, 1_000_000, tag("flinkhub.cluster", "member-1"), tag("flinkhub.shard", 7), tag("flinkhub.result", "done")),
		span("b", "a", "observe", 100, 700_000),
		span("d", "b", "POST /jobs/{jobid}/stop", 200, 600_000, tag("otel.status_code", "ERROR"), tag("otel.status_description", "timeout")),
	}}
	var out bytes.Buffer
	if err := Render(&out, tr); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []struct{ prefix, contains string }{
		{"trace abc  1.000s  4 spans", ""},
		{"OFFSET", "SPAN"},
		{"+0us", "Reconcile FlinkDeployment  cluster=member-1 shard=7 result=done"},
		{"+100us", "├─ observe"},
		{"+200us", "│  └─ POST /jobs/{jobid}/stop  !! error: timeout"},
		{"+900us", "└─ PATCH flinkdeployments/status  cluster=member-1 http.response.status_code=200"},
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w.prefix) || !strings.Contains(lines[i], w.contains) {
			t.Errorf("line %d = %q, want prefix %q containing %q", i, lines[i], w.prefix, w.contains)
		}
	}
	if !strings.Contains(lines[3], "<< slowest") {
		t.Errorf("observe (700ms) is the slowest non-root span: %q", lines[3])
	}
	if strings.Count(out.String(), "<< slowest") != 1 {
		t.Errorf("exactly one span is the slowest:\n%s", out.String())
	}
}

func TestRenderEmptyTrace(t *testing.T) {
	var out bytes.Buffer
	if err := Render(&out, jaegerquery.Trace{TraceID: "x"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "no spans") {
		t.Fatalf("got %q", out.String())
	}
}
