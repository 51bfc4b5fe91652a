package fleetindex

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"github.com/flink-hub/flink-hub/internal/sharding/shardkey"
)

// textRows are rows of both kinds, one of them placed on replica
// "hub-orders" by the placer textPlacer.
var textRows = []Deployment{
	{Cluster: "member-1", Namespace: "team-a", Name: "orders", LifecycleState: "STABLE", JobState: "RUNNING"},
	{Cluster: "member-1", Namespace: "team-a", Name: "jobs", LifecycleState: "STABLE"},
	{Kind: fleetv1.KindFlinkSessionJob, Cluster: "member-1", Namespace: "team-a", Name: "etl", SessionCluster: "jobs", LifecycleState: "STABLE", JobState: "RUNNING"},
	{Cluster: "member-2", Namespace: "team-b", Name: "payments", LifecycleState: "DEPLOYED", JobState: "FAILED", Error: "JobManager unreachable"},
	{Cluster: "member-2", Namespace: "team-b", Name: "ledger"},
}

var textPlacer = fixedPlacer{"member-2/team-b/ledger": {Owner: "hub-orders"}}

// TestFilterStateAndText: AnyState matches either state in any case; Text
// matches part of any field, in any case, the owner included.
func TestFilterStateAndText(t *testing.T) {
	ix := New(WithPlacer(textPlacer))
	for _, d := range textRows {
		ix.UpsertDeployment(d)
	}
	for _, tc := range []struct {
		name string
		f    Filter
		want []string
	}{
		{"zero filter", Filter{}, []string{"member-1/team-a/jobs", "member-1/team-a/orders", "member-2/team-b/ledger", "member-2/team-b/payments"}},
		{"lifecycle state", Filter{AnyState: "STABLE"}, []string{"member-1/team-a/jobs", "member-1/team-a/orders"}},
		{"job state, any case", Filter{AnyState: "running"}, []string{"member-1/team-a/orders"}},
		{"state nobody is in", Filter{AnyState: "SUSPENDED"}, []string{}},
		{"text in name, any case", Filter{Text: "ORD"}, []string{"member-1/team-a/orders", "member-2/team-b/ledger"}}, // ledger's owner is hub-orders
		{"text in namespace", Filter{Text: "team-a"}, []string{"member-1/team-a/jobs", "member-1/team-a/orders"}},
		{"text in error", Filter{Text: "unreachable"}, []string{"member-2/team-b/payments"}},
		{"text in kind", Filter{Text: "flinkdeployment"}, []string{"member-1/team-a/jobs", "member-1/team-a/orders", "member-2/team-b/ledger", "member-2/team-b/payments"}},
		{"text nowhere", Filter{Text: "nowhere"}, []string{}},
		{"all three", Filter{Cluster: "member-2", AnyState: "FAILED", Text: "pay"}, []string{"member-2/team-b/payments"}},
		{"one of three fails", Filter{Cluster: "member-2", AnyState: "RUNNING", Text: "pay"}, []string{}},
		{"session jobs by session cluster", Filter{Kind: fleetv1.KindFlinkSessionJob, Text: "jobs"}, []string{"member-1/team-a/sessionjob:etl"}},
	} {
		if got := keys(ix.Deployments(tc.f)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Deployments(%+v) = %v, want %v", tc.name, tc.f, got, tc.want)
		}
	}
}

// TestSummary: rows of both kinds counted per member under their job's
// state, else their lifecycle state, else UNKNOWN; the states seen; and
// the matches of a filter, which are exactly the rows it lists.
func TestSummary(t *testing.T) {
	ix := New(WithPlacer(textPlacer))
	if got := ix.Summary(Filter{}); len(got) != 0 {
		t.Fatalf("an empty index summarizes %+v", got)
	}
	for _, d := range textRows {
		ix.UpsertDeployment(d)
	}
	want := []ClusterSummary{
		{Cluster: "member-1", Total: 3, Matched: 3, ByState: map[string]int{"RUNNING": 2, "STABLE": 1}, States: []string{"RUNNING", "STABLE"}},
		{Cluster: "member-2", Total: 2, Matched: 2, ByState: map[string]int{"FAILED": 1, fleetv1.UnknownState: 1}, States: []string{"DEPLOYED", "FAILED"}},
	}
	if got := ix.Summary(Filter{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("Summary = %+v\nwant %+v", got, want)
	}
	for _, f := range []Filter{
		{AnyState: "running"}, {Text: "ord"}, {Text: "jobs"}, {Cluster: "member-2"}, {Owner: "hub-orders"},
		{Namespace: "team-a", Text: "etl"}, {Text: "nowhere"}, {LifecycleState: "STABLE"},
	} {
		matched := map[string]int{}
		for _, kind := range []string{fleetv1.KindFlinkDeployment, fleetv1.KindFlinkSessionJob} {
			listed := f
			listed.Kind = kind
			for _, d := range ix.Deployments(listed) {
				matched[d.Cluster]++
			}
		}
		got := map[string]int{}
		for _, c := range ix.Summary(f) {
			if c.Matched > 0 {
				got[c.Cluster] = c.Matched
			}
		}
		if !reflect.DeepEqual(got, matched) {
			t.Errorf("Summary(%+v) matches %v; the lists hold %v", f, got, matched)
		}
	}
}

// BenchmarkSummary counts a 100,000-row fleet of 1,000 members, unfiltered
// and by a text that only the owner holds (every row placed).
func BenchmarkSummary(b *testing.B) {
	ix := New(WithPlacer(everyKeyOn("hub-7")))
	for i := range 100000 {
		ix.UpsertDeployment(Deployment{Cluster: "member-" + itoa(i%1000), Namespace: "ns", Name: "fd-" + itoa(i), LifecycleState: "STABLE", JobState: "RUNNING"})
	}
	for name, f := range map[string]Filter{"unfiltered": {}, "text-in-owner": {Text: "hub-7"}} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if got := ix.Summary(f); len(got) != 1000 || got[0].Matched != 100 {
					b.Fatalf("%d members, %+v", len(got), got[0])
				}
			}
		})
	}
}

// everyKeyOn places every key on one replica.
type everyKeyOn string

func (p everyKeyOn) Place(keys []Key) []Placement {
	out := make([]Placement, len(keys))
	for i := range out {
		out[i].Owner = string(p)
	}
	return out
}

// TestCountsFollowWrites: after any sequence of writes (new rows, state
// changes, deletions, a member's stale rows dropped, a member removed),
// the kept counts are those of the rows the index lists.
func TestCountsFollowWrites(t *testing.T) {
	ix := New()
	rnd := rand.New(rand.NewPCG(1, 2))
	lifecycles := []string{"", "CREATED", "DEPLOYED", "STABLE", "FAILED"}
	jobs := []string{"", "RUNNING", "FAILED", "RECONCILING"}
	kinds := []string{fleetv1.KindFlinkDeployment, fleetv1.KindFlinkSessionJob}
	for step := range 3000 {
		k := Key{Cluster: "m" + itoa(rnd.IntN(4)), Namespace: "ns" + itoa(rnd.IntN(2)), Name: "r" + itoa(rnd.IntN(20))}
		kind := kinds[rnd.IntN(2)]
		switch op := rnd.IntN(100); {
		case op < 70:
			ix.UpsertDeployment(Deployment{Kind: kind, Cluster: k.Cluster, Namespace: k.Namespace, Name: k.Name,
				LifecycleState: lifecycles[rnd.IntN(len(lifecycles))], JobState: jobs[rnd.IntN(len(jobs))]})
		case op < 95:
			if kind == fleetv1.KindFlinkSessionJob {
				k.Kind = shardkey.KindSessionJob
			}
			ix.DeleteDeployment(k)
		case op < 98:
			ix.deleteClusterDeployments(k.Cluster, func(d *Deployment) bool { return d.Namespace == k.Namespace })
		default:
			ix.DeleteCluster(k.Cluster)
		}
		if step%100 == 0 || step == 2999 {
			if got, want := ix.counts.summary(), scannedSummary(ix); !reflect.DeepEqual(got, want) {
				t.Fatalf("step %d: kept counts %+v\nrows say %+v", step, got, want)
			}
			for _, c := range []string{"m0", "m1", "m2", "m3"} {
				if got, want := ix.CountDeployments(c), len(ix.Deployments(Filter{Cluster: c})); got != want {
					t.Fatalf("step %d: %s has %d FlinkDeployments, counted %d", step, c, want, got)
				}
			}
		}
	}
}

// scannedSummary is the summary of the rows the index lists, counted here.
func scannedSummary(ix *Index) []ClusterSummary {
	byCluster := map[string]*ClusterSummary{}
	var names []string
	for _, kind := range []string{fleetv1.KindFlinkDeployment, fleetv1.KindFlinkSessionJob} {
		for _, d := range ix.Deployments(Filter{Kind: kind}) {
			s := byCluster[d.Cluster]
			if s == nil {
				s = &ClusterSummary{Cluster: d.Cluster, ByState: map[string]int{}}
				byCluster[d.Cluster] = s
				names = append(names, d.Cluster)
			}
			s.Total++
			s.Matched++
			s.ByState[d.CountedState()]++
			for _, st := range []string{d.LifecycleState, d.JobState} {
				if st != "" && !slices.Contains(s.States, st) {
					s.States = append(s.States, st)
				}
			}
		}
	}
	slices.Sort(names)
	out := []ClusterSummary{}
	for _, n := range names {
		slices.Sort(byCluster[n].States)
		out = append(out, *byCluster[n])
	}
	return out
}
