package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
	"github.com/flink-hub/flink-hub/internal/observability/jaegerquery"
)

func row(cluster, ns, name, kind, lifecycle, job, errText string) fleetv1.Deployment {
	return fleetv1.Deployment{Kind: kind, Cluster: cluster, Namespace: ns, Name: name, LifecycleState: lifecycle, JobState: job, Error: errText}
}

func TestFleetFilterQueryRoundTrips(t *testing.T) {
	f := FleetFilter{Cluster: "member-1", State: "FAILED", Text: "a b&c"}
	u, err := http.NewRequest(http.MethodGet, "/console/?"+f.Query(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := filterOf(u.URL.Query()); got != f {
		t.Fatalf("filterOf(Query()) = %+v, want %+v", got, f)
	}
	if (FleetFilter{}).Query() != "" {
		t.Fatal("the zero filter has a query")
	}
}

// indexOf is a fleet index holding rows.
func indexOf(rows ...fleetv1.Deployment) *fleetindex.Index {
	ix := fleetindex.New()
	for _, d := range rows {
		ix.UpsertDeployment(d)
	}
	return ix
}

// fleetOf indexes rows and returns what the fleet page reads of them
// with f: the summary and the first rows of each kind.
func fleetOf(rows []fleetv1.Deployment, f FleetFilter) FleetView {
	ix := indexOf(rows...)
	var first []fleetv1.Deployment
	more := false
	for _, kind := range []string{fleetv1.KindFlinkDeployment, fleetv1.KindFlinkSessionJob} {
		page, m := ix.Page(f.indexFilter(kind), nil, MaxRows)
		first, more = append(first, page...), more || m
	}
	return BuildFleetView(ix.Summary(f.indexFilter("")), first, more, f)
}

func TestBuildFleetView(t *testing.T) {
	all := []fleetv1.Deployment{
		row("member-2", "b", "z", fleetv1.KindFlinkDeployment, "STABLE", "RUNNING", ""),
		row("member-1", "a", "y", fleetv1.KindFlinkDeployment, "DEPLOYED", "FAILED", "boom"),
		row("member-1", "a", "x", fleetv1.KindFlinkDeployment, "STABLE", "RUNNING", ""),
		row("member-1", "a", "x", fleetv1.KindFlinkSessionJob, "STABLE", "", ""),
	}
	v := fleetOf(all, FleetFilter{Cluster: "member-1"})
	var keys []string
	for _, d := range v.Rows {
		keys = append(keys, d.Cluster+"/"+d.Name+"/"+d.Kind)
	}
	want := []string{"member-1/x/FlinkDeployment", "member-1/x/FlinkSessionJob", "member-1/y/FlinkDeployment"}
	if !slices.Equal(keys, want) || v.Matched != 3 || v.Truncated() {
		t.Fatalf("rows %v (%d matched, truncated %v), want %v", keys, v.Matched, v.Truncated(), want)
	}
	if v.Total != 4 || !slices.Equal(v.Clusters, []string{"member-1", "member-2"}) {
		t.Fatalf("total %d clusters %v", v.Total, v.Clusters)
	}
	if !slices.Equal(v.States, []string{"DEPLOYED", "FAILED", "RUNNING", "STABLE"}) {
		t.Fatalf("states %v", v.States)
	}
	// Counted under the job's state, else the lifecycle state; the counts
	// ignore the filter.
	if !slices.Equal(v.CountStates, []string{"FAILED", "RUNNING", "STABLE"}) {
		t.Fatalf("count states %v", v.CountStates)
	}
	counts := map[string][]int{}
	for _, c := range v.Counts {
		counts[c.Cluster] = c.Counts
	}
	if !slices.Equal(counts["member-1"], []int{1, 1, 1}) || !slices.Equal(counts["member-2"], []int{0, 1, 0}) {
		t.Fatalf("counts %v", counts)
	}
	// The state filter matches a job's state or a lifecycle state, in any
	// case; the text filter any part of a row.
	for _, tc := range []struct {
		f    FleetFilter
		want int
	}{{FleetFilter{State: "running"}, 2}, {FleetFilter{State: "DEPLOYED", Text: "BOOM"}, 1}, {FleetFilter{Text: "member-"}, 4}, {FleetFilter{Text: "nowhere"}, 0}} {
		if v := fleetOf(all, tc.f); v.Matched != tc.want || len(v.Rows) != tc.want || v.Total != 4 {
			t.Errorf("%+v: %d matched, %d rows of %d, want %d", tc.f, v.Matched, len(v.Rows), v.Total, tc.want)
		}
	}
}

func TestMaskedYAML(t *testing.T) {
	spec := map[string]any{
		"flinkConfiguration": map[string]any{
			"s3.secret-key":                 "AKIA-very-secret",
			"taskmanager.numberOfTaskSlots": "2",
			"security":                      map[string]any{"ssl": map[string]any{"keystore-password": "hunter2"}},
		},
		"podTemplate": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{
			"name": "flink-main-container",
			"env": []any{
				map[string]any{"name": "DB_PASSWORD", "value": "pa55"},
				map[string]any{"name": "REGION", "value": "eu-1"},
			},
		}}}},
		// Outside the configuration a key named like a secret is a field.
		"serviceAccountToken": "not-a-config-key",
	}
	out, err := MaskedYAML(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"AKIA-very-secret", "hunter2", "pa55"} {
		if strings.Contains(out, secret) {
			t.Errorf("secret %q shown:\n%s", secret, out)
		}
	}
	for _, kept := range []string{"numberOfTaskSlots: \"2\"", "eu-1", "not-a-config-key", "keystore-password: '******'"} {
		if !strings.Contains(out, kept) {
			t.Errorf("%q missing:\n%s", kept, out)
		}
	}
}

// fakeMembers answers Resource from a map.
type fakeMembers map[string]Resource

func (f fakeMembers) Resource(_ context.Context, kind, cluster, namespace, name string) (Resource, bool, error) {
	r, ok := f[kind+"/"+cluster+"/"+namespace+"/"+name]
	return r, ok, nil
}

func newTestConsole(t *testing.T, opts Options) *httptest.Server {
	t.Helper()
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

// TestPagesEscapeTenantText: whatever a tenant writes (an error Flink
// reports, an event message, a spec value) is shown as text, never markup,
// and every page forbids scripts but the console's own.
func TestPagesEscapeTenantText(t *testing.T) {
	const hostile = `<script>alert("x")</script><img src=x onerror=alert(1)>`
	ix := indexOf(row("member-1", "team-a", "orders", fleetv1.KindFlinkDeployment, "DEPLOYED", "FAILED", hostile))
	members := fakeMembers{"FlinkDeployment/member-1/team-a/orders": {
		Spec:   "image: " + hostile,
		Events: []Event{{Time: time.Now(), Type: "Warning", Reason: "Failed", Message: hostile}},
	}}
	srv := newTestConsole(t, Options{Fleet: &fleetapi.Fleet{Index: ix}, Members: members})
	for _, path := range []string{"/console/", "/console/?q=" + "%3Cscript%3E", "/console/fleet/rows", ResourcePath(fleetv1.KindFlinkDeployment, "member-1", "team-a", "orders")} {
		code, h, body := get(t, srv.URL+path)
		if code != http.StatusOK {
			t.Fatalf("%s: %d\n%s", path, code, body)
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s renders tenant text as markup:\n%s", path, body)
		}
		if !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("%s does not show the tenant text escaped", path)
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
	}
}

func TestFleetPageFiltersAndPolls(t *testing.T) {
	ix := indexOf(
		row("member-1", "team-a", "orders", fleetv1.KindFlinkDeployment, "STABLE", "RUNNING", ""),
		row("member-2", "team-b", "payments", fleetv1.KindFlinkDeployment, "DEPLOYED", "FAILED", "boom"),
		row("member-2", "team-b", "refunds", fleetv1.KindFlinkSessionJob, "STABLE", "RUNNING", ""),
	)
	srv := newTestConsole(t, Options{Fleet: &fleetapi.Fleet{Index: ix}})
	_, _, body := get(t, srv.URL+"/console/?cluster=member-2")
	if !strings.Contains(body, `data-key="member-2/team-b/payments"`) || !strings.Contains(body, `data-key="member-2/team-b/refunds" data-kind="FlinkSessionJob"`) ||
		strings.Contains(body, `data-key="member-1/team-a/orders"`) {
		t.Fatalf("the cluster filter did not narrow the table:\n%s", body)
	}
	// The live part polls itself with the same filter.
	if !strings.Contains(body, `hx-get="/console/fleet/rows?cluster=member-2"`) || !strings.Contains(body, `hx-trigger="every 1000ms"`) {
		t.Fatalf("the table does not poll its rows with the filter:\n%s", body)
	}
	code, _, frag := get(t, srv.URL+"/console/fleet/rows?state=RUNNING")
	if code != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(frag), `<div id="live"`) || !strings.Contains(frag, "member-1/team-a/orders") || strings.Contains(frag, "payments") {
		t.Fatalf("fragment %d:\n%s", code, frag)
	}
	// A change in the index shows in the next poll.
	ix.UpsertDeployment(row("member-1", "team-a", "orders", fleetv1.KindFlinkDeployment, "STABLE", "FAILED", "now failing"))
	if _, _, frag = get(t, srv.URL+"/console/fleet/rows"); !strings.Contains(frag, "now failing") {
		t.Fatalf("the fragment does not show the index's change:\n%s", frag)
	}
}

func TestNotFoundAndBadInput(t *testing.T) {
	ix := fleetindex.New()
	srv := newTestConsole(t, Options{Fleet: &fleetapi.Fleet{Index: ix}, Traces: &jaegerquery.Client{BaseURL: "http://127.0.0.1:1"}})
	for path, want := range map[string]int{
		"/console/clusters/m/namespaces/ns/flinkdeployments/none": http.StatusNotFound,
		"/console/clusters/m/namespaces/ns/pods/x":                http.StatusNotFound,
		"/console/traces/not-hex":                                 http.StatusBadRequest,
		"/console/traces/abc123":                                  http.StatusBadGateway,
		"/console/nothing-here":                                   http.StatusNotFound,
	} {
		if code, _, body := get(t, srv.URL+path); code != want {
			t.Errorf("%s: %d, want %d\n%s", path, code, want, body)
		}
	}
	resp, err := http.Post(srv.URL+"/console/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
}

func TestAssetsAreEmbedded(t *testing.T) {
	srv := newTestConsole(t, Options{Fleet: &fleetapi.Fleet{Index: fleetindex.New()}})
	for _, path := range []string{"/console/assets/vendor/htmx.min.js", "/console/assets/vendor/pico.min.css", "/console/assets/console.css", "/console/assets/console.js"} {
		code, h, body := get(t, srv.URL+path)
		if code != http.StatusOK || len(body) < 100 {
			t.Errorf("%s: %d, %d bytes", path, code, len(body))
		}
		if !strings.Contains(h.Get("Cache-Control"), "max-age") {
			t.Errorf("%s: Cache-Control %q", path, h.Get("Cache-Control"))
		}
	}
}

// TestAssetAddressesFollowTheirContent: pages name every asset with a
// version from its content, so an upgrade that changes an asset changes
// its address and a browser's cached copy (kept a day) is not used.
func TestAssetAddressesFollowTheirContent(t *testing.T) {
	srv := newTestConsole(t, Options{Fleet: &fleetapi.Fleet{Index: fleetindex.New()}})
	_, _, page := get(t, srv.URL+Prefix)
	refs := regexp.MustCompile(`(?:href|src)="(/console/assets/[^"?]+)\?v=([0-9a-f]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) != 4 {
		t.Fatalf("want the 4 assets named with versions, got %q in\n%s", refs, page)
	}
	for _, ref := range refs {
		code, _, body := get(t, srv.URL+ref[1]+"?v="+ref[2])
		sum := sha256.Sum256([]byte(body))
		if code != http.StatusOK || ref[2] != hex.EncodeToString(sum[:6]) {
			t.Errorf("%s: %d, version %s, content's %x", ref[1], code, ref[2], sum[:6])
		}
	}
	if _, err := assetPath("missing.js"); err == nil {
		t.Error("an unknown asset has an address")
	}
}

func TestBuildWaterfall(t *testing.T) {
	span := func(id, parent, op string, start, dur int64, tags ...jaegerquery.KeyValue) jaegerquery.Span {
		s := jaegerquery.Span{SpanID: id, OperationName: op, StartTime: start, Duration: dur, Tags: tags}
		if parent != "" {
			s.References = []jaegerquery.Reference{{RefType: "CHILD_OF", SpanID: parent}}
		}
		return s
	}
	v := BuildWaterfall(jaegerquery.Trace{TraceID: "t1", Spans: []jaegerquery.Span{
		span("b", "a", "GET /jobs/{jobid}", 1_000_000, 0, jaegerquery.KeyValue{Key: "otel.status_code", Value: "ERROR"}),
		span("a", "", "Reconcile FlinkDeployment", 1_000_000, 2_000),
		span("c", "a", "PATCH status", 1_001_500, 500),
	}})
	if len(v.Rows) != 3 || v.Duration != "2.0ms" {
		t.Fatalf("%+v", v)
	}
	for i, w := range []struct {
		name        string
		left, width float64
		failed      bool
	}{
		{"Reconcile FlinkDeployment", 0, 100, false},
		{"GET /jobs/{jobid}", 0, 0.2, true}, // an instant span stays visible
		{"PATCH status", 75, 25, false},
	} {
		r := v.Rows[i]
		if r.Name != w.name || r.Left != w.left || r.Width != w.width || r.Failed != w.failed {
			t.Errorf("row %d = %s left %v width %v failed %v, want %+v", i, r.Name, r.Left, r.Width, r.Failed, w)
		}
	}
}

// TestVendoredAssetsMatchTheirSources: the embedded third-party files are
// the npm packages' files that SOURCES names (make console-assets).
func TestVendoredAssetsMatchTheirSources(t *testing.T) {
	sources, err := files.ReadFile("assets/vendor/SOURCES")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(sources), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) != 4 {
			t.Fatalf("SOURCES line %q: want package, version, file, sha256", line)
		}
		data, err := files.ReadFile("assets/vendor/" + fields[2])
		if err != nil {
			t.Fatal(err)
		}
		if sum := fmt.Sprintf("%x", sha256.Sum256(data)); sum != fields[3] {
			t.Errorf("%s is not %s@%s's: sha256 %s, SOURCES says %s", fields[2], fields[0], fields[1], sum, fields[3])
		}
		n++
	}
	if n != 2 {
		t.Fatalf("SOURCES names %d files, want htmx and Pico CSS", n)
	}
}

// TestBigFleetIsCappedAndSaysSo: a page renders at most MaxRows rows and
// says how many matched.
func TestBigFleetIsCappedAndSaysSo(t *testing.T) {
	var all []fleetv1.Deployment
	for i := range MaxRows + 5 {
		all = append(all, row("m", "ns", fmt.Sprintf("job-%05d", i), fleetv1.KindFlinkDeployment, "STABLE", "RUNNING", ""))
	}
	v := fleetOf(all, FleetFilter{})
	if len(v.Rows) != MaxRows || v.Matched != MaxRows+5 || !v.Truncated() || v.Rows[0].Name != "job-00000" {
		t.Fatalf("%d rows, %d matched, truncated %v", len(v.Rows), v.Matched, v.Truncated())
	}
	srv := newTestConsole(t, Options{Fleet: &fleetapi.Fleet{Index: indexOf(all...)}})
	_, _, body := get(t, srv.URL+"/console/fleet/rows")
	if n := strings.Count(body, "data-key="); n != MaxRows || !strings.Contains(body, fmt.Sprintf("Showing the first %d of %d", MaxRows, MaxRows+5)) {
		t.Fatalf("%d rows rendered; the page does not say it left some out", n)
	}
	if v := fleetOf(all, FleetFilter{Text: "job-0000"}); v.Truncated() || v.Matched != 10 {
		t.Fatalf("a narrow filter: %d matched, truncated %v", v.Matched, v.Truncated())
	}
}

// TestResourcePageShowsItsRow: a resource's page shows its own row, not a
// neighbour's whose name starts the same.
func TestResourcePageShowsItsRow(t *testing.T) {
	ix := indexOf(
		row("member-1", "team-a", "orders", fleetv1.KindFlinkDeployment, "STABLE", "RUNNING", ""),
		row("member-1", "team-a", "orders-2", fleetv1.KindFlinkDeployment, "DEPLOYED", "FAILED", "orders-2 broke"),
		row("member-1", "team-a", "orders-3", fleetv1.KindFlinkDeployment, "STABLE", "RUNNING", "orders-3 broke"),
	)
	srv := newTestConsole(t, Options{Fleet: &fleetapi.Fleet{Index: ix}})
	code, _, body := get(t, srv.URL+"/console/clusters/member-1/namespaces/team-a/flinkdeployments/orders-2")
	if code != http.StatusOK || !strings.Contains(body, "orders-2 broke") || strings.Contains(body, "orders-3 broke") {
		t.Fatalf("the page of orders-2 (%d):\n%s", code, body)
	}
}

// TestMaskedYAMLMasksEmbeddedSpecs: the status keeps the whole spec as JSON
// in lastReconciledSpec and lastStableSpec; the secrets in it are masked as
// in the spec, and one that cannot be decoded (so not masked) is not shown.
func TestMaskedYAMLMasksEmbeddedSpecs(t *testing.T) {
	spec := flinkv1beta1.FlinkDeploymentSpec{Image: "flink:2.2",
		FlinkConfiguration: &apiextensionsv1.JSON{Raw: []byte(`{"s3.secret-key":"hunter2","state.savepoints.dir":"s3://own/sp"}`)}}
	raw, err := json.Marshal(map[string]any{"spec": spec, "resource_metadata": map[string]any{"apiVersion": "flink.apache.org/v1beta1"}})
	if err != nil {
		t.Fatal(err)
	}
	encoded := string(raw)
	for _, tc := range []struct {
		name, reconciled, stable string
		want                     []string
	}{
		{"both", encoded, encoded, []string{"s3://own/sp", `"s3.secret-key":"******"`}},
		{"stable only", "", encoded, []string{"s3://own/sp"}},
		{"undecodable", `{"spec":{"flinkConfiguration":{"s3.secret-key":"hunter2"}}`, encoded + " trailing hunter2", []string{Unreadable}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var st flinkv1beta1.FlinkDeploymentStatus
			st.ReconciliationStatus.LastReconciledSpec, st.ReconciliationStatus.LastStableSpec = tc.reconciled, tc.stable
			out, err := MaskedYAML(st)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out, "hunter2") {
				t.Errorf("the secret is shown:\n%s", out)
			}
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("%q missing:\n%s", want, out)
				}
			}
		})
	}
}
