package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

// StatusPatches are the FlinkDeployment status patches the hub sent during
// a convergence, read from the member apiservers' audit logs: what each
// changed, and how many each FlinkDeployment got.
type StatusPatches struct {
	// ByChange counts the patches by what they changed (patchChange).
	ByChange map[string]int `json:"byChange"`
	// FDsByPatches counts the FlinkDeployments by how many status patches
	// they got.
	FDsByPatches map[int]int `json:"flinkDeploymentsByPatches"`
	// Beyond counts the FlinkDeployments that got more than two patches by
	// the sequence of their changes (" | " between patches).
	Beyond map[string]int `json:"beyondTwo"`
}

// enumFields are the status fields whose values a change names: the
// states a patch moves a FlinkDeployment through.
var enumFields = map[string]bool{
	"lifecycleState":             true,
	"jobManagerDeploymentStatus": true,
	"jobStatus.state":            true,
	"reconciliationStatus.state": true,
}

// patchChange names what a merge patch of a FlinkDeployment's status
// changed: the fields it sets, two levels deep, sorted, with the values
// of enumFields ("jobStatus.state=RUNNING"). Fields outside status (the
// resourceVersion of an optimistic lock) are left out.
func patchChange(body []byte) string {
	var patch struct {
		Status map[string]json.RawMessage `json:"status"`
	}
	if err := json.Unmarshal(body, &patch); err != nil {
		return "(not a JSON merge patch)"
	}
	var fields []string
	add := func(path string, raw json.RawMessage) {
		var s string
		if enumFields[path] && json.Unmarshal(raw, &s) == nil {
			path += "=" + s
		}
		fields = append(fields, path)
	}
	for k, raw := range patch.Status {
		var inner map[string]json.RawMessage
		if json.Unmarshal(raw, &inner) != nil || len(inner) == 0 {
			add(k, raw)
			continue
		}
		for k2, raw2 := range inner {
			add(k+"."+k2, raw2)
		}
	}
	slices.Sort(fields)
	return strings.Join(fields, " ")
}

// summarizeStatusPatches summarizes status patch requests (each with its
// body) of the FlinkDeployments of the convergence.
func summarizeStatusPatches(reqs []framework.Request) *StatusPatches {
	out := &StatusPatches{ByChange: map[string]int{}, FDsByPatches: map[int]int{}, Beyond: map[string]int{}}
	byFD := map[string][]framework.Request{}
	for _, r := range reqs {
		out.ByChange[patchChange(r.Body)]++
		key := r.Namespace + "/" + r.Name
		byFD[key] = append(byFD[key], r)
	}
	for _, rs := range byFD {
		out.FDsByPatches[len(rs)]++
		if len(rs) <= 2 {
			continue
		}
		slices.SortStableFunc(rs, func(a, b framework.Request) int { return a.Received.Compare(b.Received) })
		changes := make([]string, len(rs))
		for i, r := range rs {
			changes[i] = patchChange(r.Body)
		}
		out.Beyond[strings.Join(changes, " | ")]++
	}
	return out
}

// statusPatchesOf summarizes, of the hub's requests (readHubRequests),
// the status patches of FlinkDeployments in namespace received until end
// that the apiserver accepted (each member's names apart).
func statusPatchesOf(hub []auditedRequests, namespace string, end time.Time) *StatusPatches {
	var all []framework.Request
	for _, m := range hub {
		for _, r := range m.requests {
			if r.Verb == "patch" && r.Resource == "flinkdeployments" && r.Subresource == "status" &&
				r.Namespace == namespace && r.Code < 300 && !r.Received.After(end) {
				r.Namespace = m.member + "/" + r.Namespace
				all = append(all, r)
			}
		}
	}
	return summarizeStatusPatches(all)
}

// statusPatchTables renders what the status patches of the convergences
// changed, per FlinkDeployment, and the sequences of those that got more
// than two.
func statusPatchTables(p func(string, ...any), cs []*Convergence) {
	with, head, sep := convergenceColumns(cs, func(c *Convergence) bool { return c.StatusPatches != nil })
	if len(with) == 0 {
		return
	}
	p("\n### Status patches of the convergences, per FlinkDeployment, by what they changed\n\n| fields set (and states) |%s\n|---|%s\n", head, sep)
	changes := map[string]int{}
	for _, c := range with {
		for k, n := range c.StatusPatches.ByChange {
			changes[k] += n
		}
	}
	rows := slices.Collect(maps.Keys(changes))
	slices.SortFunc(rows, func(a, b string) int { return cmp.Or(cmp.Compare(changes[b], changes[a]), cmp.Compare(a, b)) })
	for _, k := range rows {
		cells := ""
		for _, c := range with {
			cells += fmt.Sprintf(" %.3f |", float64(c.StatusPatches.ByChange[k])/float64(c.FlinkDeployments))
		}
		p("| `%s` |%s\n", k, cells)
	}
	for _, c := range with {
		counts := slices.Sorted(maps.Keys(c.StatusPatches.FDsByPatches))
		var parts []string
		for _, n := range counts {
			parts = append(parts, fmt.Sprintf("%d with %d", c.StatusPatches.FDsByPatches[n], n))
		}
		p("\n%d replica(s): FlinkDeployments by status patches: %s.\n", c.Replicas, strings.Join(parts, ", "))
		seqs := slices.Collect(maps.Keys(c.StatusPatches.Beyond))
		slices.SortFunc(seqs, func(a, b string) int {
			return cmp.Or(cmp.Compare(c.StatusPatches.Beyond[b], c.StatusPatches.Beyond[a]), cmp.Compare(a, b))
		})
		for _, s := range seqs[:min(len(seqs), 5)] {
			p("- %d: `%s`\n", c.StatusPatches.Beyond[s], s)
		}
	}
}

// convergenceColumns picks the convergences that have what a table shows,
// and the table's column headers and separators for them.
func convergenceColumns(cs []*Convergence, has func(*Convergence) bool) (with []*Convergence, head, sep string) {
	for _, c := range cs {
		if has(c) {
			with = append(with, c)
			head += fmt.Sprintf(" %d replica(s) |", c.Replicas)
			sep += "---|"
		}
	}
	return with, head, sep
}
