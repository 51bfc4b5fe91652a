package console

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
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

// Match reports whether d passes f.
func (f FleetFilter) Match(d fleetv1.Deployment) bool {
	if f.Cluster != "" && d.Cluster != f.Cluster {
		return false
	}
	if f.State != "" && !strings.EqualFold(d.LifecycleState, f.State) && !strings.EqualFold(d.JobState, f.State) {
		return false
	}
	if f.Text == "" {
		return true
	}
	text := strings.ToLower(f.Text)
	for _, field := range []string{d.Cluster, d.Namespace, d.Name, d.Owner, d.Kind, d.Error, d.SessionCluster} {
		if strings.Contains(strings.ToLower(field), text) {
			return true
		}
	}
	return false
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
}

// MaxRows bounds the rows a fleet page renders (and sends every second):
// a bigger fleet is narrowed by the filter, and the page says so.
const MaxRows = 1000

// Truncated reports rows left out by MaxRows.
func (v FleetView) Truncated() bool { return v.Matched > len(v.Rows) }

// stateOf is the state a resource is counted under: its job's state when it
// has a job, else its lifecycle state.
func stateOf(d fleetv1.Deployment) string {
	switch {
	case d.JobState != "":
		return d.JobState
	case d.LifecycleState != "":
		return d.LifecycleState
	}
	return "UNKNOWN"
}

// BuildFleetView filters and sorts all and counts states per member.
func BuildFleetView(all []fleetv1.Deployment, f FleetFilter) FleetView {
	v := FleetView{Filter: f, Total: len(all)}
	clusters, states := map[string]bool{}, map[string]bool{}
	perCluster := map[string]map[string]int{}
	for _, d := range all {
		clusters[d.Cluster] = true
		for _, s := range []string{d.LifecycleState, d.JobState} {
			if s != "" {
				states[s] = true
			}
		}
		st := stateOf(d)
		if perCluster[d.Cluster] == nil {
			perCluster[d.Cluster] = map[string]int{}
		}
		perCluster[d.Cluster][st]++
		if f.Match(d) {
			v.Rows = append(v.Rows, d)
		}
	}
	sort.Slice(v.Rows, func(i, j int) bool {
		a, b := v.Rows[i], v.Rows[j]
		if a.Cluster != b.Cluster {
			return a.Cluster < b.Cluster
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Kind < b.Kind
	})
	v.Matched = len(v.Rows)
	if len(v.Rows) > MaxRows {
		v.Rows = v.Rows[:MaxRows]
	}
	v.Clusters = sortedKeys(clusters)
	v.States = sortedKeys(states)
	var counted []string
	for _, m := range perCluster {
		for s := range m {
			counted = append(counted, s)
		}
	}
	counted = sortedKeys(setOf(counted))
	for _, c := range v.Clusters {
		sc := StateCounts{Cluster: c, Counts: make([]int, len(counted))}
		for i, s := range counted {
			sc.Counts[i] = perCluster[c][s]
			sc.Total += perCluster[c][s]
		}
		v.Counts = append(v.Counts, sc)
	}
	v.CountStates = counted
	return v
}

func setOf(s []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	return m
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
	rows, incomplete := c.rowsOf(r)
	v := BuildFleetView(rows, filterOf(r.URL.Query()))
	v.Incomplete = incomplete
	c.render(w, http.StatusOK, "fleet", c.page("fleet", "Fleet", v))
}

// fleetRows serves the fleet page's live part, which htmx swaps in.
func (c *console) fleetRows(w http.ResponseWriter, r *http.Request) {
	rows, incomplete := c.rowsOf(r)
	v := BuildFleetView(rows, filterOf(r.URL.Query()))
	v.Incomplete = incomplete
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := c.pages["fleet"].ExecuteTemplate(w, "live", c.page("fleet", "Fleet", v)); err != nil {
		http.Error(w, "the console could not render the fleet", http.StatusInternalServerError)
	}
}
