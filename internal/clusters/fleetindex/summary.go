package fleetindex

import (
	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
)

// ClusterSummary counts one member's rows (fleetv1.ClusterSummary).
type ClusterSummary = fleetv1.ClusterSummary

// Summary counts the rows of both kinds per cluster and state, and those
// passing f (whose Kind is ignored: both kinds are counted), sorted by
// cluster. The counts are kept by every write (counts); only matches of a
// filter on more than the cluster are counted from the rows, from f's run
// of keys, copying none, and placing only those whose owner decides.
func (ix *Index) Summary(f Filter) []ClusterSummary {
	out := ix.counts.summary()
	switch {
	case !f.clusterOnly():
		matched := ix.matched(f)
		for i := range out {
			out[i].Matched = matched[out[i].Cluster]
		}
	case f.Cluster != "":
		for i := range out {
			if out[i].Cluster != f.Cluster {
				out[i].Matched = 0
			}
		}
	}
	return out
}

// clusterOnly reports whether f filters by nothing but the cluster.
func (f Filter) clusterOnly() bool {
	return f.Namespace == "" && f.Name == "" && f.LifecycleState == "" && f.AnyState == "" && f.Text == "" && f.Owner == ""
}

// matched counts the rows of both kinds that pass f, per cluster.
func (ix *Index) matched(f Filter) map[string]int {
	txn := ix.db.Txn(false)
	defer txn.Abort()
	out := map[string]int{}
	var unplaced []*Deployment
	for _, kind := range []string{fleetv1.KindFlinkDeployment, fleetv1.KindFlinkSessionJob} {
		for d := range f.run(txn, kind, f.keyPrefix()) {
			switch {
			case !f.matchesFields(d):
			case f.Owner == "" && f.matchesPlaced(d):
				out[d.Cluster]++ // no text, or text in a field other than the owner
			default:
				unplaced = append(unplaced, d) // the owner decides
			}
		}
	}
	for _, d := range ix.matchPlaced(unplaced, f) {
		out[d.Cluster]++
	}
	return out
}

// matchPlaced returns the rows of ds (pointers into the index, not
// changed) that pass f's Owner and Text once placed. Only their
// placements are copied, never the rows.
func (ix *Index) matchPlaced(ds []*Deployment, f Filter) []*Deployment {
	if len(ds) == 0 {
		return nil
	}
	var placements []Placement
	if ix.placer != nil {
		keys := make([]Key, len(ds))
		for i, d := range ds {
			keys[i] = KeyOf(d)
		}
		placements = ix.placer.Place(keys)
	}
	var out []*Deployment
	for i, d := range ds {
		probe := *d
		if i < len(placements) {
			probe.Owner = placements[i].Owner
		}
		if f.matchesPlaced(&probe) {
			out = append(out, d)
		}
	}
	return out
}
