// Package jaegerquery reads traces from Jaeger's HTTP query API
// (/api/services, /api/traces), for tests and for `kubectl flinkhub trace`.
package jaegerquery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client queries one Jaeger query endpoint, e.g. http://localhost:16686.
type Client struct {
	// BaseURL is the query service's address.
	BaseURL string
	// HTTP is the client used; http.DefaultClient with a timeout if nil.
	HTTP *http.Client
}

// Query selects traces.
type Query struct {
	// Service is the service name (required).
	Service string
	// Operation is a span name, e.g. "Reconcile FlinkDeployment".
	Operation string
	// Tags must all match on one span of the trace.
	Tags map[string]string
	// Limit is the maximum number of traces, newest first.
	Limit int
	// Lookback limits how far back to search; Jaeger's default when zero.
	Lookback time.Duration
}

// Trace is one trace as the query API returns it.
type Trace struct {
	TraceID   string             `json:"traceID"`
	Spans     []Span             `json:"spans"`
	Processes map[string]Process `json:"processes"`
}

// Span is one span; times are microseconds.
type Span struct {
	TraceID       string      `json:"traceID"`
	SpanID        string      `json:"spanID"`
	OperationName string      `json:"operationName"`
	References    []Reference `json:"references"`
	StartTime     int64       `json:"startTime"`
	Duration      int64       `json:"duration"`
	Tags          []KeyValue  `json:"tags"`
	Logs          []Log       `json:"logs"`
	ProcessID     string      `json:"processID"`
}

// Reference links a span to its parent (CHILD_OF) or another span.
type Reference struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

// KeyValue is a span tag.
type KeyValue struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// Log is a span event.
type Log struct {
	Timestamp int64      `json:"timestamp"`
	Fields    []KeyValue `json:"fields"`
}

// Process is the emitting service of spans.
type Process struct {
	ServiceName string     `json:"serviceName"`
	Tags        []KeyValue `json:"tags"`
}

// Tag returns the value of a span tag as text and whether it is set.
func (s Span) Tag(key string) (string, bool) {
	for _, kv := range s.Tags {
		if kv.Key == key {
			return fmt.Sprint(kv.Value), true
		}
	}
	return "", false
}

// ParentID is the span id of the CHILD_OF parent, or "" for a root.
func (s Span) ParentID() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

// Find returns the traces matching q, newest first as Jaeger returns them.
func (c *Client) Find(ctx context.Context, q Query) ([]Trace, error) {
	if q.Service == "" {
		return nil, fmt.Errorf("jaeger query: a service name is required")
	}
	v := url.Values{"service": {q.Service}}
	if q.Operation != "" {
		v.Set("operation", q.Operation)
	}
	if len(q.Tags) > 0 {
		tags, err := json.Marshal(q.Tags)
		if err != nil {
			return nil, err
		}
		v.Set("tags", string(tags))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Lookback > 0 {
		v.Set("lookback", q.Lookback.String())
	}
	var out struct {
		Data   []Trace `json:"data"`
		Errors []struct {
			Msg string `json:"msg"`
		} `json:"errors"`
	}
	if err := c.get(ctx, "/api/traces?"+v.Encode(), &out); err != nil {
		return nil, err
	}
	if len(out.Errors) > 0 {
		return nil, fmt.Errorf("jaeger query: %s", out.Errors[0].Msg)
	}
	return out.Data, nil
}

// Trace returns the trace of id (hex); found is false when Jaeger has no
// such trace.
func (c *Client) Trace(ctx context.Context, id string) (t Trace, found bool, err error) {
	if !isHex(id) {
		return Trace{}, false, fmt.Errorf("jaeger query: trace id %q is not hexadecimal", id)
	}
	var out struct {
		Data []Trace `json:"data"`
	}
	if err := c.get(ctx, "/api/traces/"+id, &out); err != nil {
		if errors.Is(err, errNotFound) {
			return Trace{}, false, nil
		}
		return Trace{}, false, err
	}
	if len(out.Data) == 0 {
		return Trace{}, false, nil
	}
	return out.Data[0], true, nil
}

func isHex(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

// errNotFound is a 404 answer.
var errNotFound = errors.New("not found")

// Services lists the services Jaeger has spans of.
func (c *Client) Services(ctx context.Context) ([]string, error) {
	var out struct {
		Data []string `json:"data"`
	}
	if err := c.get(ctx, "/api/services", &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

func (c *Client) get(ctx context.Context, pathAndQuery string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(c.BaseURL, "/")+pathAndQuery, nil)
	if err != nil {
		return err
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("jaeger query at %s: %w", c.BaseURL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("jaeger query: read response: %w", err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("jaeger query: %s: %w", req.URL.Path, errNotFound)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("jaeger query: %s answered %s", req.URL.Path, resp.Status)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("jaeger query: %s did not answer JSON: %w", req.URL.Path, err)
	}
	return nil
}
