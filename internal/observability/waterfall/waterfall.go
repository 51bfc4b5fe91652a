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

// Render writes the trace as an indented tree, children in start order. The
// slowest span below the root is marked "<< slowest", failed spans "!! error".
func Render(w io.Writer, t jaegerquery.Trace) error {
	if len(t.Spans) == 0 {
		_, err := fmt.Fprintf(w, "trace %s has no spans\n", t.TraceID)
		return err
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
	slowest := slowestNonRoot(t.Spans, roots)

	p := &printer{w: w, children: children, start: start, slowest: slowest}
	p.printf("trace %s  %s  %d spans\n", t.TraceID, micros(end-start), len(t.Spans))
	p.printf("%-10s %-10s %s\n", "OFFSET", "DURATION", "SPAN")
	for _, r := range roots {
		p.span(r, "", true, true)
	}
	return p.err
}

type printer struct {
	w        io.Writer
	children map[string][]jaegerquery.Span
	start    int64
	slowest  string
	err      error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) span(s jaegerquery.Span, indent string, last, root bool) {
	branch := ""
	if !root {
		branch = "├─ "
		if last {
			branch = "└─ "
		}
	}
	line := indent + branch + s.OperationName
	if attrs := attributes(s); attrs != "" {
		line += "  " + attrs
	}
	if msg, failed := failure(s); failed {
		line += "  !! error: " + msg
	}
	if s.SpanID == p.slowest {
		line += "  << slowest"
	}
	p.printf("+%-9s %-10s %s\n", micros(s.StartTime-p.start), micros(s.Duration), line)
	next := indent
	if !root {
		if last {
			next += "   "
		} else {
			next += "│  "
		}
	}
	kids := p.children[s.SpanID]
	for i, c := range kids {
		p.span(c, next, i == len(kids)-1, false)
	}
}

func attributes(s jaegerquery.Span) string {
	var parts []string
	for _, k := range keyTags {
		if v, ok := s.Tag(k); ok {
			parts = append(parts, strings.TrimPrefix(k, "flinkhub.")+"="+v)
		}
	}
	return strings.Join(parts, " ")
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

func micros(us int64) string {
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
