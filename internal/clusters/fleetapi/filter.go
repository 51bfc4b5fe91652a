package fleetapi

import (
	"fmt"
	"net/url"

	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
)

// maxFilterLen bounds each filter a caller sends: a name or a state is at
// most 253 characters, and a text longer than that matches nothing.
const maxFilterLen = 253

// filterParams are the query parameters of a fleetindex.Filter, by the
// field they set.
var filterParams = []struct {
	param string
	field func(*fleetindex.Filter) *string
}{
	{"cluster", func(f *fleetindex.Filter) *string { return &f.Cluster }},
	{"namespace", func(f *fleetindex.Filter) *string { return &f.Namespace }},
	{"name", func(f *fleetindex.Filter) *string { return &f.Name }},
	{"state", func(f *fleetindex.Filter) *string { return &f.LifecycleState }},
	{"anyState", func(f *fleetindex.Filter) *string { return &f.AnyState }},
	{"q", func(f *fleetindex.Filter) *string { return &f.Text }},
	{"owner", func(f *fleetindex.Filter) *string { return &f.Owner }},
}

// parseFilter reads the filters of a request for rows of kind, refusing
// one over maxFilterLen with a message for the caller.
func parseFilter(q url.Values, kind string) (fleetindex.Filter, error) {
	f := fleetindex.Filter{Kind: kind}
	for _, p := range filterParams {
		v := q.Get(p.param)
		if len(v) > maxFilterLen {
			return f, fmt.Errorf("%s: longer than %d characters", p.param, maxFilterLen)
		}
		*p.field(&f) = v
	}
	return f, nil
}

// filterValues sets f's filters (all but Kind) on q, as a peer reads them.
func filterValues(f fleetindex.Filter, q url.Values) {
	for _, p := range filterParams {
		if v := *p.field(&f); v != "" {
			q.Set(p.param, v)
		}
	}
}
