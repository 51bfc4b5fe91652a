package console

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
	"github.com/flink-hub/flink-hub/internal/observability/jaegerquery"
	"github.com/flink-hub/flink-hub/internal/observability/traceattr"
	"github.com/flink-hub/flink-hub/internal/observability/waterfall"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// readTimeout bounds what a page waits for from members, the hub
// apiserver and the trace backend.
const readTimeout = 10 * time.Second

// pageData is what every page's layout reads.
type pageData struct {
	Nav, Title string
	Body       any
	Now        time.Time
	// RefreshMillis is the fleet table's polling interval.
	RefreshMillis int64
}

func (c *console) page(nav, title string, body any) pageData {
	return pageData{Nav: nav, Title: title, Body: body, Now: c.opts.Now(), RefreshMillis: RefreshInterval.Milliseconds()}
}

// resourcePaths maps the URL's resource segment to the fleet's kinds.
var resourcePaths = map[string]string{
	"flinkdeployments": fleetv1.KindFlinkDeployment,
	"flinksessionjobs": fleetv1.KindFlinkSessionJob,
}

// ResourcePath is the console's address of one FlinkDeployment or
// FlinkSessionJob.
func ResourcePath(kind, cluster, namespace, name string) string {
	segment := "flinkdeployments"
	if kind == fleetv1.KindFlinkSessionJob {
		segment = "flinksessionjobs"
	}
	return Prefix + "clusters/" + url.PathEscape(cluster) + "/namespaces/" + url.PathEscape(namespace) + "/" + segment + "/" + url.PathEscape(name)
}

// TracePath is the console's address of one trace.
func TracePath(id string) string { return Prefix + "traces/" + url.PathEscape(id) }

// MembersView is what the members page shows.
type MembersView struct {
	Clusters []fleetv1.Cluster
	// Incomplete names the hub replicas whose counts are missing.
	Incomplete []string
	// Conditions are the MemberClusters' conditions by member name.
	Conditions map[string][]metav1.Condition
	// Error says why the MemberClusters could not be read.
	Error string
}

func (c *console) members(w http.ResponseWriter, r *http.Request) {
	clusters, incomplete := c.opts.Fleet.Clusters(r.Context(), fleetapi.Bearer(r), false)
	v := MembersView{Clusters: clusters, Incomplete: incomplete, Conditions: map[string][]metav1.Condition{}}
	if c.opts.MemberClusters != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
		defer cancel()
		list, err := c.opts.MemberClusters(ctx)
		if err != nil {
			v.Error = "the hub apiserver did not list the MemberClusters"
		}
		for _, mc := range list {
			v.Conditions[mc.Name] = mc.Status.Conditions
		}
	}
	c.render(w, http.StatusOK, "members", c.page("members", "Member clusters", v))
}

// ShardsView is what the shards page shows.
type ShardsView struct {
	Table shardlease.Table
	// Keys are the index's resources of each shard.
	Keys  map[int]ShardKeys
	Error string
}

// ShardKeys are one shard's resources in the fleet index: how many, and
// the first MaxShardKeys of them by cluster, namespace, name and kind.
type ShardKeys struct {
	Count int
	First []fleetv1.Deployment
}

// More is how many of the shard's resources First leaves out.
func (k ShardKeys) More() int { return k.Count - len(k.First) }

// MaxShardKeys bounds the resources the shards page lists per shard.
const MaxShardKeys = 50

func (c *console) shards(w http.ResponseWriter, r *http.Request) {
	v := ShardsView{Keys: map[int]ShardKeys{}}
	if c.opts.Shards != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
		defer cancel()
		t, err := c.opts.Shards(ctx)
		if err != nil {
			v.Error = "the hub apiserver did not list the shard Leases"
		}
		v.Table = t
	}
	rows, _ := c.rowsOf(r)
	sortRows(rows)
	for _, d := range rows {
		if d.Shard != nil {
			k := v.Keys[*d.Shard]
			if k.Count++; len(k.First) < MaxShardKeys {
				k.First = append(k.First, d)
			}
			v.Keys[*d.Shard] = k
		}
	}
	c.render(w, http.StatusOK, "shards", c.page("shards", "Shards", v))
}

// ResourceView is what a FlinkDeployment's or FlinkSessionJob's page
// shows.
type ResourceView struct {
	Row fleetv1.Deployment
	// Resource is what the member tells; Found is false when it was not
	// read, and ReadError says why.
	Resource  Resource
	Found     bool
	ReadError string
	// Traces are the latest reconcile traces, newest first; Latest is the
	// first laid out as a waterfall.
	Traces      []TraceSummary
	Latest      *WaterfallView
	TracesError string
}

// TraceSummary is one trace in a list.
type TraceSummary struct {
	ID       string
	Start    time.Time
	Duration string
	Spans    int
	Failed   bool
	Result   string
}

func (c *console) resource(w http.ResponseWriter, r *http.Request) {
	kind, ok := resourcePaths[r.PathValue("resource")]
	if !ok {
		c.fail(w, http.StatusNotFound, "Not found", "The console shows flinkdeployments and flinksessionjobs.")
		return
	}
	cluster, namespace, name := r.PathValue("cluster"), r.PathValue("namespace"), r.PathValue("name")
	var v ResourceView
	found := false
	rows, _ := c.opts.Fleet.Deployments(r.Context(), fleetapi.Bearer(r), fleetindex.Filter{Kind: kind, Cluster: cluster, Namespace: namespace, Name: name}, false)
	for _, d := range rows {
		// The name is checked again: a peer of an older hub answers its
		// whole namespace.
		if d.Name == name {
			v.Row, found = d, true
		}
	}
	if !found {
		c.fail(w, http.StatusNotFound, "Not found", fmt.Sprintf("The fleet has no %s %s/%s in member %s.", kind, namespace, name, cluster))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	if c.opts.Members != nil {
		res, ok, err := c.opts.Members.Resource(ctx, kind, cluster, namespace, name)
		var refused *Refused
		switch {
		case errors.As(err, &refused):
			v.ReadError = refused.Reason
		case err != nil:
			v.ReadError = "the member did not answer: " + err.Error()
		case !ok:
			v.ReadError = "the member no longer has it"
		default:
			v.Resource, v.Found = res, true
		}
	}
	v.Traces, v.Latest, v.TracesError = c.latestTraces(ctx, kind, cluster, namespace, name)
	c.render(w, http.StatusOK, "resource", c.page("fleet", kind+" "+namespace+"/"+name, v))
}

// latestTraces reads the resource's latest reconcile traces and lays out
// the newest.
func (c *console) latestTraces(ctx context.Context, kind, cluster, namespace, name string) ([]TraceSummary, *WaterfallView, string) {
	if c.opts.Traces == nil {
		return nil, nil, "no trace backend is configured on the hub (--trace-query-url)"
	}
	traces, err := c.opts.Traces.Find(ctx, jaegerquery.Query{
		Service:   c.opts.Service,
		Operation: "Reconcile " + kind,
		Tags: map[string]string{
			string(traceattr.Cluster):   cluster,
			string(traceattr.Namespace): namespace,
			string(traceattr.Name):      name,
		},
		Limit:    10,
		Lookback: 24 * time.Hour,
	})
	if err != nil {
		return nil, nil, "the trace backend did not answer"
	}
	var out []TraceSummary
	for _, t := range traces {
		l := waterfall.Lay(t)
		s := TraceSummary{ID: t.TraceID, Spans: len(t.Spans), Duration: waterfall.Micros(l.Total)}
		if len(l.Rows) > 0 {
			s.Start = time.UnixMicro(l.Rows[0].Span.StartTime)
			s.Result, _ = l.Rows[0].Span.Tag(string(traceattr.Result))
		}
		for _, row := range l.Rows {
			s.Failed = s.Failed || row.Failed
		}
		out = append(out, s)
	}
	// Jaeger answers newest first by convention; make sure.
	slices.SortStableFunc(out, func(a, b TraceSummary) int { return b.Start.Compare(a.Start) })
	if len(out) == 0 {
		return nil, nil, ""
	}
	for _, t := range traces {
		if t.TraceID == out[0].ID {
			wv := BuildWaterfall(t)
			return out, &wv, ""
		}
	}
	return out, nil, ""
}

func (c *console) trace(w http.ResponseWriter, r *http.Request) {
	if c.opts.Traces == nil {
		c.fail(w, http.StatusNotFound, "No trace backend", "No trace backend is configured on the hub (--trace-query-url).")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	t, found, err := c.opts.Traces.Trace(ctx, r.PathValue("id"))
	switch {
	case err != nil && strings.Contains(err.Error(), "not hexadecimal"):
		c.fail(w, http.StatusBadRequest, "Not a trace id", "A trace id is up to 32 hexadecimal digits.")
	case err != nil:
		c.fail(w, http.StatusBadGateway, "Trace backend", "The trace backend did not answer.")
	case !found:
		c.fail(w, http.StatusNotFound, "Not found", "The trace backend has no such trace.")
	default:
		c.render(w, http.StatusOK, "trace", c.page("", "Trace "+t.TraceID, BuildWaterfall(t)))
	}
}

// WaterfallView is a trace drawn as bars on one time axis.
type WaterfallView struct {
	TraceID  string
	Duration string
	Rows     []WaterfallRow
	// Ticks mark the time axis at 0, 25, 50, 75 and 100 %.
	Ticks []string
}

// WaterfallRow is one span's bar; Left and Width are percent of the trace.
type WaterfallRow struct {
	waterfall.Row
	Name                string
	Left, Width         float64
	OffsetText, DurText string
	// Indent is the depth in em for the name column.
	Indent int
	// Events are the span's events (logs), e.g. exceptions.
	Events []string
}

// BuildWaterfall lays out t for the page: every span a bar of at least
// 0.2 % so that instant spans stay visible.
func BuildWaterfall(t jaegerquery.Trace) WaterfallView {
	l := waterfall.Lay(t)
	v := WaterfallView{TraceID: t.TraceID, Duration: waterfall.Micros(l.Total)}
	total := float64(max(l.Total, 1))
	for i := 0; i <= 4; i++ {
		v.Ticks = append(v.Ticks, waterfall.Micros(l.Total*int64(i)/4))
	}
	for _, r := range l.Rows {
		left := 100 * float64(r.Offset) / total
		width := max(100*float64(r.Duration)/total, 0.2)
		width = min(width, 100-left)
		row := WaterfallRow{Row: r, Name: r.Span.OperationName, Left: left, Width: width,
			OffsetText: "+" + waterfall.Micros(r.Offset), DurText: waterfall.Micros(r.Duration), Indent: r.Depth}
		for _, lg := range r.Span.Logs {
			var parts []string
			for _, f := range lg.Fields {
				parts = append(parts, f.Key+"="+fmt.Sprint(f.Value))
			}
			row.Events = append(row.Events, strings.Join(parts, " "))
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"asset": assetPath,
	"resourcePath": func(d fleetv1.Deployment) string {
		return ResourcePath(d.Kind, d.Cluster, d.Namespace, d.Name)
	},
	"tracePath": TracePath,
	"shard": func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	},
	"ago": func(now time.Time, t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return agoText(now.Sub(*t))
	},
	"agoTime": func(now, t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return agoText(now.Sub(t))
	},
	"rfc3339": func(t any) string {
		switch t := t.(type) {
		case *time.Time:
			if t == nil {
				return ""
			}
			return t.UTC().Format(time.RFC3339)
		case time.Time:
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(time.RFC3339)
		}
		return ""
	},
	"pct": func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) + "%" },
	"fleetQuery": func(f FleetFilter) template.URL {
		// The query's parts are escaped by url.Values.
		if q := f.Query(); q != "" {
			return template.URL("?" + q)
		}
		return ""
	},
	"stateClass": stateClass,
	"add":        func(a, b int) int { return a + b },
	"errorFirst": func(d fleetv1.Deployment) string { return d.ErrorLine() },
}

// stateClass is the CSS class of a state's badge.
func stateClass(state string) string {
	switch strings.ToUpper(state) {
	case "RUNNING", "STABLE", "DEPLOYED", "READY", "FINISHED", "COMPLETED", "TRUE":
		return "ok"
	case "FAILED", "FAILING", "ERROR", "FALSE", "ABANDONED":
		return "bad"
	case "":
		return ""
	}
	return "busy"
}

func agoText(d time.Duration) string {
	switch {
	case d < 0:
		return "now"
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s ago"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + "h ago"
	}
	return strconv.Itoa(int(d.Hours()/24)) + "d ago"
}
