package main

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

// HubRequests are the requests the hub's member identity sent the member
// apiservers during a convergence, read from their audit logs, by verb and
// resource ("patch flinkdeployments/status", "get configmaps"), accepted or
// not: writes and reads, not watches (a watch is a stream per member and
// kind, whatever its FlinkDeployments; the report counts them apart).
type HubRequests struct {
	// InFleet are those in the fleet's namespace: the FlinkDeployments,
	// the objects of their clusters and their events.
	InFleet map[string]int `json:"inFleetNamespace"`
	// Upkeep are the others: what the hub sends per member whatever its
	// FlinkDeployments (the member claim's Lease renewals).
	Upkeep map[string]int `json:"upkeep"`
}

// auditedRequests are the requests of the hub's identity one member's
// audit log recorded.
type auditedRequests struct {
	member   string
	requests []framework.Request
}

// readHubRequests reads, from every member's audit log, once, the
// requests of the hub's identity received between start and end: what
// statusPatchesOf and hubRequestsOf count.
func readHubRequests(e *env, start, end time.Time) ([]auditedRequests, error) {
	var out []auditedRequests
	for _, m := range e.fleet.Members {
		reqs, err := m.Requests(func(r framework.Request) bool {
			return r.User == framework.HubUser && !r.Received.Before(start) && !r.Received.After(end)
		})
		if err != nil {
			return nil, err
		}
		out = append(out, auditedRequests{member: m.Name, requests: reqs})
	}
	return out, nil
}

// hubRequestsOf counts the hub's requests (readHubRequests) but its
// watches, by verb and resource, in namespace and elsewhere.
func hubRequestsOf(hub []auditedRequests, namespace string) *HubRequests {
	out := &HubRequests{InFleet: map[string]int{}, Upkeep: map[string]int{}}
	for _, m := range hub {
		for _, r := range m.requests {
			if r.Verb == "watch" {
				continue
			}
			key := r.Verb + " " + r.Resource
			if r.Subresource != "" {
				key += "/" + r.Subresource
			}
			if r.Namespace == namespace {
				out.InFleet[key]++
			} else {
				out.Upkeep[key]++
			}
		}
	}
	return out
}

// PerFD is the hub's requests in the fleet's namespace per
// FlinkDeployment of a fleet of n.
func (w *HubRequests) PerFD(n int) float64 {
	return ratio(float64(countAll(w.InFleet)), float64(n))
}

// hubRequestsTable renders the hub's requests of each convergence per
// FlinkDeployment, then its upkeep requests as counts.
func hubRequestsTable(p func(string, ...any), cs []*Convergence) {
	with, head, sep := convergenceColumns(cs, func(c *Convergence) bool { return c.HubRequestsByResource != nil })
	if len(with) == 0 {
		return
	}
	p("\n### The hub's requests to the members during the convergences (audit logs; all but watches)\n\n| verb resource |%s\n|---|%s\n", head, sep)
	row := func(name string, cell func(*Convergence) string) {
		cells := ""
		for _, c := range with {
			cells += " " + cell(c) + " |"
		}
		p("| %s |%s\n", name, cells)
	}
	for _, k := range unionKeys(with, func(w *HubRequests) map[string]int { return w.InFleet }) {
		row(k+", per FlinkDeployment", func(c *Convergence) string {
			return fmt.Sprintf("%.3f", float64(c.HubRequestsByResource.InFleet[k])/float64(c.FlinkDeployments))
		})
	}
	row("**in the fleet's namespace, per FlinkDeployment**", func(c *Convergence) string {
		return fmt.Sprintf("**%.3f**", c.HubRequestsByResource.PerFD(c.FlinkDeployments))
	})
	for _, k := range unionKeys(with, func(w *HubRequests) map[string]int { return w.Upkeep }) {
		row(k+" elsewhere (member upkeep), in all", func(c *Convergence) string {
			return fmt.Sprint(c.HubRequestsByResource.Upkeep[k])
		})
	}
}

// unionKeys lists the keys of the counts of every convergence, the
// commonest first.
func unionKeys(cs []*Convergence, counts func(*HubRequests) map[string]int) []string {
	all := map[string]int{}
	for _, c := range cs {
		for k, n := range counts(c.HubRequestsByResource) {
			all[k] += n
		}
	}
	keys := slices.Collect(maps.Keys(all))
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(all[b], all[a]), cmp.Compare(a, b)) })
	return keys
}

// countAll adds up counts.
func countAll(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// hubRequestsCell is the target row's figure and verdict: the hub's
// requests (reads and writes) in the fleet's namespace per
// FlinkDeployment, then all its writes
// to members per FlinkDeployment (its client's count, the member claims'
// renewals included, which come per member and time, not per
// FlinkDeployment).
func hubRequestsCell(c *Convergence) string {
	all := c.HubWrites / float64(c.FlinkDeployments)
	if c.HubRequestsByResource == nil {
		return fmt.Sprintf("%.2f | %s", all, verdict(all <= 8))
	}
	perFD := c.HubRequestsByResource.PerFD(c.FlinkDeployments)
	return fmt.Sprintf("%.3f (all writes to members: %.3f) | %s", perFD, all, verdict(perFD <= 8))
}
