package console

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
)

// FleetFilter narrows the fleet table; its zero value lets everything
// through. It is the fleet page's query (?cluster=&state=&q=), so a
// filtered table is a link to share.
type FleetFilter struct {
	// Cluster is a member's name.
	Cluster string
	// State matches the lifecycle state or the job state.
	State string
	// Text matches, ignoring case, the cluster, namespace, name, owner,
	// kind or error.
	Text string
}

// filterOf reads a FleetFilter from a query.
func filterOf(q url.Values) FleetFilter {
	return FleetFilter{Cluster: strings.TrimSpace(q.Get("cluster")), State: strings.TrimSpace(q.Get("state")), Text: strings.TrimSpace(q.Get("q"))}
}

// Query is f as a URL query, "" for the zero filter.
func (f FleetFilter) Query() string {
	v := url.Values{}
	for k, s := range map[string]string{"cluster": f.Cluster, "state": f.State, "q": f.Text} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

// indexFilter is f as the fleet index's filter of rows of kind ("" for
// a summary, which counts both).
func (f FleetFilter) indexFilter(kind string) fleetindex.Filter {
	return fleetindex.Filter{Kind: kind, Cluster: f.Cluster, AnyState: f.State, Text: f.Text}
}

// StateCounts is one member's count of resources per state.
type StateCounts struct {
	Cluster string
	// Counts is indexed like FleetView.CountStates.
	Counts []int
	Total  int
}

// FleetView is what the fleet page shows.
type FleetView struct {
	Filter FleetFilter
	// Rows are the resources that pass Filter, by cluster, namespace,
	// name and kind.
	Rows []fleetv1.Deployment
	// Total is the number of resources before filtering, Matched after;
	// Rows holds at most MaxRows of them.
	Total, Matched int
	// Clusters and States are every member and every state seen, sorted,
	// for the filter's choices and the counts' columns.
	Clusters, States []string
	// Incomplete names the hub replicas whose rows are missing.
	Incomplete []string
	// Counts has one entry per member: its unfiltered resources per state,
	// in the order of CountStates (the states resources are counted
	// under: a job's state, else the lifecycle state).
	Counts      []StateCounts
	CountStates []string
	// more says that Rows leaves out rows that pass Filter.
	more bool
}

// MaxRows bounds the rows a fleet page renders (and sends every second):
// a bigger fleet is narrowed by the filter, and the page says so.
const MaxRows = 1000

// Truncated reports rows left out by MaxRows.
func (v FleetView) Truncated() bool { return v.more }

// BuildFleetView makes the fleet page from the fleet's summary (counts per
// member and state, and the matches of f) and the first rows that pass f
// of each kind: it sorts the rows by cluster, namespace, name and kind and
// keeps the first MaxRows. more says that rows passing f were left out of
// rows.
func BuildFleetView(summary []fleetv1.ClusterSummary, rows []fleetv1.Deployment, more bool, f FleetFilter) FleetView {
	v := FleetView{Filter: f, Rows: rows}
	states, counted := map[string]bool{}, map[string]bool{}
	for _, c := range summary {
		v.Clusters = append(v.Clusters, c.Cluster)
		v.Total += c.Total
		v.Matched += c.Matched
		for _, s := range c.States {
			states[s] = true
		}
		for s := range c.ByState {
			counted[s] = true
		}
	}
	slices.Sort(v.Clusters)
	v.States, v.CountStates = sortedKeys(states), sortedKeys(counted)
	for _, c := range summary {
		sc := StateCounts{Cluster: c.Cluster, Counts: make([]int, len(v.CountStates))}
		for i, s := range v.CountStates {
			sc.Counts[i] = c.ByState[s]
			sc.Total += c.ByState[s]
		}
		v.Counts = append(v.Counts, sc)
	}
	slices.SortFunc(v.Counts, func(a, b StateCounts) int { return strings.Compare(a.Cluster, b.Cluster) })
	sortRows(v.Rows)
	if len(v.Rows) > MaxRows {
		v.Rows, more = v.Rows[:MaxRows], true
	}
	// The summary and the rows are read at about the same moment, not at
	// the same one: the matches are at least the rows shown.
	v.Matched, v.more = max(v.Matched, len(v.Rows)), more
	return v
}

// sortRows sorts rows by cluster, namespace, name and kind.
func sortRows(rows []fleetv1.Deployment) {
	slices.SortFunc(rows, func(a, b fleetv1.Deployment) int {
		return cmp.Or(fleetindex.CompareKeys(fleetindex.KeyOf(&a), fleetindex.KeyOf(&b)), strings.Compare(a.Kind, b.Kind))
	})
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// fleet serves the fleet page.
func (c *console) fleet(w http.ResponseWriter, r *http.Request) {
	c.render(w, http.StatusOK, "fleet", c.page("fleet", "Fleet", c.fleetView(r)))
}

// fleetRows serves the fleet page's live part, which htmx swaps in.
func (c *console) fleetRows(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := c.pages["fleet"].ExecuteTemplate(w, "live", c.page("fleet", "Fleet", c.fleetView(r))); err != nil {
		http.Error(w, "the console could not render the fleet", http.StatusInternalServerError)
	}
}

// fleetView reads what the fleet page shows as the viewer of r may see
// it: the summary, and the first MaxRows rows of each kind that pass the
// page's filter (the first MaxRows of both are among them), the three
// asked at once.
func (c *console) fleetView(r *http.Request) FleetView {
	f := filterOf(r.URL.Query())
	token := fleetapi.Bearer(r)
	var (
		summary    []fleetv1.ClusterSummary
		rows       [2][]fleetv1.Deployment
		more       [2]bool
		incomplete [3][]string
		wg         sync.WaitGroup
	)
	wg.Add(3)
	go func() {
		defer wg.Done()
		summary, incomplete[2] = c.opts.Fleet.Summary(r.Context(), token, f.indexFilter(""), false)
	}()
	for i, kind := range []string{fleetv1.KindFlinkDeployment, fleetv1.KindFlinkSessionJob} {
		go func() {
			defer wg.Done()
			rows[i], more[i], incomplete[i] = c.opts.Fleet.First(r.Context(), token, f.indexFilter(kind), MaxRows)
		}()
	}
	wg.Wait()
	v := BuildFleetView(summary, append(rows[0], rows[1]...), more[0] || more[1], f)
	v.Incomplete = slices.Compact(slices.Sorted(slices.Values(slices.Concat(incomplete[:]...))))
	return v
}
