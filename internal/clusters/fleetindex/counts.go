package fleetindex

import (
	"slices"
	"strings"
	"sync"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
)

// counts are the index's rows counted per cluster, kept by every write of
// a row, so that a summary of the fleet reads no row.
//
// Invariant: every change is made while the index's write transaction
// is open (memdb lets one writer at a time), so counts change in the
// order the rows do; readers take mu.
type counts struct {
	mu       sync.Mutex
	clusters map[string]*clusterCounts
}

// clusterCounts are one cluster's counts.
type clusterCounts struct {
	total, deployments int
	// byState counts rows by Deployment.CountedState; states counts the
	// rows in each lifecycle and job state (a row with both is in two).
	byState, states map[string]int
}

// add counts d in (delta 1) or out (-1); a nil d counts nothing.
func (c *counts) add(d *Deployment, delta int) {
	if d == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clusters == nil {
		c.clusters = map[string]*clusterCounts{}
	}
	cc := c.clusters[d.Cluster]
	if cc == nil {
		cc = &clusterCounts{byState: map[string]int{}, states: map[string]int{}}
		c.clusters[d.Cluster] = cc
	}
	cc.total += delta
	if d.Kind == fleetv1.KindFlinkDeployment {
		cc.deployments += delta
	}
	bump(cc.byState, d.CountedState(), delta)
	for _, s := range []string{d.LifecycleState, d.JobState} {
		if s != "" {
			bump(cc.states, s, delta)
		}
	}
	if cc.total == 0 {
		delete(c.clusters, d.Cluster)
	}
}

// bump adds delta to m[k], removing k at 0.
func bump(m map[string]int, k string, delta int) {
	if m[k] += delta; m[k] == 0 {
		delete(m, k)
	}
}

// dropCluster forgets a cluster whose rows are all deleted.
func (c *counts) dropCluster(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.clusters, name)
}

// deploymentsOf is the cluster's FlinkDeployment count.
func (c *counts) deploymentsOf(cluster string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cc := c.clusters[cluster]; cc != nil {
		return cc.deployments
	}
	return 0
}

// summary is every cluster's summary, sorted by name, each with Matched
// set to its total.
func (c *counts) summary() []ClusterSummary {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]ClusterSummary, 0, len(c.clusters))
	for name, cc := range c.clusters {
		s := ClusterSummary{Cluster: name, Total: cc.total, Matched: cc.total, ByState: make(map[string]int, len(cc.byState))}
		for state, n := range cc.byState {
			s.ByState[state] = n
		}
		for state := range cc.states {
			s.States = append(s.States, state)
		}
		slices.Sort(s.States)
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b ClusterSummary) int { return strings.Compare(a.Cluster, b.Cluster) })
	return out
}
