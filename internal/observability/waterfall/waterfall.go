// Package waterfall prints a trace as a span tree with start offsets,
// durations, status and key attributes, for reading traces without a UI.
package waterfall

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/flink-hub/flink-hub/internal/observability/jaegerquery"
)

// keyTags are the span tags worth showing, in this order.
var keyTags = []string{
	"flinkhub.cluster", "flinkhub.namespace", "flinkhub.name", "flinkhub.generation",
	"flinkhub.shard", "flinkhub.replica", "flinkhub.result",
	"http.response.status_code", "http.status_code",
}

// Row is one span of a laid-out trace, in display order.
type Row struct {
	Span jaegerquery.Span
	// Depth is 0 for a root span, 1 for its children, and so on.
	Depth int
	// Tree is the text tree drawing before the span's name ("├─ ", ...).
	Tree string
	// Offset and Duration are microseconds from the trace's start.
	Offset, Duration int64
	// Attributes are the key tags, "name=value".
	Attributes []string
	// Failed marks a span that ended in error; Error is its message.
	Failed bool
	Error  string
	// Slowest marks the slowest span below the root.
	Slowest bool
}

// Layout is a trace laid out for display.
type Layout struct {
	TraceID string
	// Total is the trace's length in microseconds.
	Total int64
	// Rows are the spans, each before its children, children in start
	// order.
	Rows []Row
}

// Lay lays out t: its span tree (a span whose parent is not in the trace is
// a root), offsets from the first start, and the slowest non-root span.
func Lay(t jaegerquery.Trace) Layout {
	out := Layout{TraceID: t.TraceID}
	if len(t.Spans) == 0 {
		return out
	}
	byID := map[string]jaegerquery.Span{}
	children := map[string][]jaegerquery.Span{}
	for _, s := range t.Spans {
		byID[s.SpanID] = s
	}
	var roots []jaegerquery.Span
	for _, s := range t.Spans {
		if p := s.ParentID(); p != "" {
			if _, known := byID[p]; known {
				children[p] = append(children[p], s)
				continue
			}
		}
		roots = append(roots, s)
	}
	sortByStart(roots)
	for _, c := range children {
		sortByStart(c)
	}
	start, end := roots[0].StartTime, int64(0)
	for _, s := range t.Spans {
		start = min(start, s.StartTime)
		end = max(end, s.StartTime+s.Duration)
	}
	out.Total = end - start
	slowest := slowestNonRoot(t.Spans, roots)
	var walk func(s jaegerquery.Span, depth int, indent string, last, root bool)
	walk = func(s jaegerquery.Span, depth int, indent string, last, root bool) {
		branch, next := "", indent
		if !root {
			branch, next = "├─ ", indent+"│  "
			if last {
				branch, next = "└─ ", indent+"   "
			}
		}
		msg, failed := failure(s)
		out.Rows = append(out.Rows, Row{
			Span: s, Depth: depth, Tree: indent + branch,
			Offset: s.StartTime - start, Duration: s.Duration,
			Attributes: attributes(s), Failed: failed, Error: msg,
			Slowest: s.SpanID == slowest,
		})
		kids := children[s.SpanID]
		for i, c := range kids {
			walk(c, depth+1, next, i == len(kids)-1, false)
		}
	}
	for _, r := range roots {
		walk(r, 0, "", true, true)
	}
	return out
}

// Render writes the trace as an indented tree, children in start order. The
// slowest span below the root is marked "<< slowest", failed spans "!! error".
func Render(w io.Writer, t jaegerquery.Trace) error {
	if len(t.Spans) == 0 {
		_, err := fmt.Fprintf(w, "trace %s has no spans\n", t.TraceID)
		return err
	}
	l := Lay(t)
	var b strings.Builder
	fmt.Fprintf(&b, "trace %s  %s  %d spans\n", t.TraceID, Micros(l.Total), len(t.Spans))
	fmt.Fprintf(&b, "%-10s %-10s %s\n", "OFFSET", "DURATION", "SPAN")
	for _, r := range l.Rows {
		line := r.Tree + r.Span.OperationName
		if len(r.Attributes) > 0 {
			line += "  " + strings.Join(r.Attributes, " ")
		}
		if r.Failed {
			line += "  !! error: " + r.Error
		}
		if r.Slowest {
			line += "  << slowest"
		}
		fmt.Fprintf(&b, "+%-9s %-10s %s\n", Micros(r.Offset), Micros(r.Duration), line)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func attributes(s jaegerquery.Span) []string {
	var parts []string
	for _, k := range keyTags {
		if v, ok := s.Tag(k); ok {
			parts = append(parts, strings.TrimPrefix(k, "flinkhub.")+"="+v)
		}
	}
	return parts
}

// failure reports whether the span ended in error and the message if any.
func failure(s jaegerquery.Span) (string, bool) {
	status, _ := s.Tag("otel.status_code")
	isErr, _ := s.Tag("error")
	if status != "ERROR" && isErr != "true" {
		return "", false
	}
	msg, _ := s.Tag("otel.status_description")
	return msg, true
}

func slowestNonRoot(spans, roots []jaegerquery.Span) string {
	isRoot := map[string]bool{}
	for _, r := range roots {
		isRoot[r.SpanID] = true
	}
	id, longest := "", int64(-1)
	for _, s := range spans {
		if !isRoot[s.SpanID] && s.Duration > longest {
			id, longest = s.SpanID, s.Duration
		}
	}
	return id
}

func sortByStart(spans []jaegerquery.Span) {
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].StartTime < spans[j].StartTime })
}

// Micros formats a duration in microseconds as 12us, 3.4ms or 1.234s.
func Micros(us int64) string {
	d := time.Duration(us) * time.Microsecond
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%dus", us)
	}
}
