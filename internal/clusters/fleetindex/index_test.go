package fleetindex

import (
	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type fixedPlacer map[string]Placement

func (p fixedPlacer) Place(keys []Key) []Placement {
	out := make([]Placement, len(keys))
	for i, k := range keys {
		out[i] = p[k.String()]
	}
	return out
}

func keys(ds []Deployment) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, KeyOf(&d).String())
	}
	return out
}

func seed(ix *Index) {
	for _, d := range []Deployment{
		{Cluster: "m1", Namespace: "a", Name: "x", LifecycleState: "STABLE"},
		{Cluster: "m1", Namespace: "b", Name: "y", LifecycleState: "FAILED"},
		{Cluster: "m2", Namespace: "a", Name: "x", LifecycleState: "STABLE"},
		{Cluster: "m2", Namespace: "a", Name: "z"},
	} {
		ix.UpsertDeployment(d)
	}
}

func TestDeploymentsFilter(t *testing.T) {
	ix := New()
	seed(ix)
	cases := []struct {
		name string
		f    Filter
		want []string
	}{
		{"all", Filter{}, []string{"m1/a/x", "m1/b/y", "m2/a/x", "m2/a/z"}},
		{"cluster", Filter{Cluster: "m2"}, []string{"m2/a/x", "m2/a/z"}},
		{"state", Filter{LifecycleState: "STABLE"}, []string{"m1/a/x", "m2/a/x"}},
		{"cluster and state", Filter{Cluster: "m1", LifecycleState: "FAILED"}, []string{"m1/b/y"}},
		{"namespace", Filter{Namespace: "a"}, []string{"m1/a/x", "m2/a/x", "m2/a/z"}},
		{"unknown cluster", Filter{Cluster: "m9"}, []string{}},
		{"owner not yet placed", Filter{Owner: "replica-0"}, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := keys(ix.Deployments(tc.f)); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Deployments(%+v) = %v, want %v", tc.f, got, tc.want)
			}
		})
	}
}

func TestUpsertReplacesAndDelete(t *testing.T) {
	ix := New()
	seed(ix)
	ix.UpsertDeployment(Deployment{Cluster: "m1", Namespace: "a", Name: "x", LifecycleState: "FAILED"})
	if got := keys(ix.Deployments(Filter{LifecycleState: "FAILED"})); !reflect.DeepEqual(got, []string{"m1/a/x", "m1/b/y"}) {
		t.Fatalf("after update FAILED = %v", got)
	}
	if got := keys(ix.Deployments(Filter{LifecycleState: "STABLE"})); !reflect.DeepEqual(got, []string{"m2/a/x"}) {
		t.Fatalf("the old state index entry survived the update: STABLE = %v", got)
	}
	ix.DeleteDeployment(Key{Cluster: "m1", Namespace: "a", Name: "x"})
	if n := ix.CountDeployments("m1"); n != 1 {
		t.Fatalf("m1 has %d deployments after delete, want 1", n)
	}
}

func TestClustersCountAndDelete(t *testing.T) {
	ix := New()
	seed(ix)
	ix.UpsertCluster(Cluster{Name: "m2", Ready: true})
	ix.UpsertCluster(Cluster{Name: "m1", Reason: "Unreachable"})
	got := ix.Clusters()
	if len(got) != 2 || got[0].Name != "m1" || got[0].Deployments != 2 || got[1].Deployments != 2 || !got[1].Ready {
		t.Fatalf("Clusters() = %+v", got)
	}
	ix.DeleteCluster("m1")
	if got := ix.Clusters(); len(got) != 1 || got[0].Name != "m2" {
		t.Fatalf("after delete Clusters() = %+v", got)
	}
	if n := len(ix.Deployments(Filter{Cluster: "m1"})); n != 0 {
		t.Fatalf("deleting a cluster left %d of its deployments", n)
	}
}

func TestPlacement(t *testing.T) {
	seven := 7
	ix := New(WithPlacer(fixedPlacer{"m1/a/x": {Shard: &seven, Owner: "replica-1"}}))
	seed(ix)
	got := ix.Deployments(Filter{Owner: "replica-1"})
	if len(got) != 1 || KeyOf(&got[0]).String() != "m1/a/x" || got[0].Shard == nil || *got[0].Shard != 7 {
		t.Fatalf("placer not applied: %+v", got)
	}
	// A shard changing hands shows in the next query, without a write.
	placer := ix.placer.(fixedPlacer)
	placer["m2/a/z"] = Placement{Owner: "replica-2"}
	placer["m1/a/x"] = Placement{Shard: &seven, Owner: "replica-2"}
	if got := keys(ix.Deployments(Filter{Owner: "replica-2"})); !reflect.DeepEqual(got, []string{"m1/a/x", "m2/a/z"}) {
		t.Fatalf("owner replica-2 = %v", got)
	}
	if got := ix.Deployments(Filter{Owner: "replica-1"}); len(got) != 0 {
		t.Fatalf("owner replica-1 after the handoff = %+v", got)
	}
}

func TestDeleteClusterDeploymentsKeepsNewEngagement(t *testing.T) {
	ix := New()
	f := &Feeder{index: ix, engagements: map[string]uint64{}, rows: map[Key]uint64{}}
	for gen, name := range []string{"gone", "old", "new"} {
		f.engagements["m1"] = uint64(gen)
		d := Deployment{Cluster: "m1", Namespace: "a", Name: name}
		f.wrote("m1", uint64(gen), KeyOf(&d))
		ix.UpsertDeployment(d)
	}
	f.forget(Key{Cluster: "m1", Namespace: "a", Name: "gone"})
	f.wrote("m1", 1, Key{Cluster: "m1", Namespace: "a", Name: "new"}) // an ended engagement writes nothing
	ix.deleteClusterDeployments("m1", func(d *Deployment) bool { return f.writer(KeyOf(d)) != 2 })
	if got := keys(ix.Deployments(Filter{})); !reflect.DeepEqual(got, []string{"m1/a/new"}) {
		t.Fatalf("after dropping stale rows: %v", got)
	}
}

// BenchmarkDeploymentsByClusterAndState measures the fleet API's typical
// query on a 10,000-deployment fleet of 10 members.
func BenchmarkDeploymentsByClusterAndState(b *testing.B) {
	ix := New()
	states := []string{"STABLE", "DEPLOYED", "FAILED", "SUSPENDED"}
	for i := 0; i < 10000; i++ {
		ix.UpsertDeployment(Deployment{
			Cluster: "member-" + itoa(i%10), Namespace: "ns", Name: "fd-" + itoa(i),
			LifecycleState: states[(i/10)%len(states)],
		})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if got := ix.Deployments(Filter{Cluster: "member-3", LifecycleState: "FAILED"}); len(got) != 250 {
			b.Fatalf("got %d deployments, want 250", len(got))
		}
	}
}

// BenchmarkList compares a whole list of a 100,000-deployment fleet of
// 1,000 members with one page of 500 rows from its middle (what `kubectl
// flinkhub get` reads a request).
func BenchmarkList(b *testing.B) {
	ix := New()
	for i := 0; i < 100000; i++ {
		ix.UpsertDeployment(Deployment{Cluster: "member-" + itoa(i%1000), Namespace: "ns", Name: "fd-" + itoa(i), LifecycleState: "STABLE"})
	}
	b.Run("whole", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if got := ix.Deployments(Filter{}); len(got) != 100000 {
				b.Fatalf("got %d rows", len(got))
			}
		}
	})
	b.Run("page-of-500", func(b *testing.B) {
		b.ReportAllocs()
		after := Key{Cluster: "member-500", Namespace: "ns", Name: "fd-500"}
		for i := 0; i < b.N; i++ {
			if got, more := ix.Page(Filter{}, &after, 500); len(got) != 500 || !more {
				b.Fatalf("got %d rows, more %v", len(got), more)
			}
		}
	})
}

// BenchmarkUpsertDeployment measures one informer event's index write.
func BenchmarkUpsertDeployment(b *testing.B) {
	ix := New()
	for i := 0; i < b.N; i++ {
		ix.UpsertDeployment(Deployment{Cluster: "member-1", Namespace: "ns", Name: itoa(i % 10000), LifecycleState: "STABLE"})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestErrorLine(t *testing.T) {
	long := strings.Repeat("é", 70)
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"invalid spec: spec.job.parallelism: Invalid value: 0", "invalid spec: spec.job.parallelism: Invalid value: 0"},
		{"first line\nsecond line", "first line..."},
		{long, strings.Repeat("é", 57) + "..."},
	} {
		d := Deployment{Error: tc.in}
		if got := d.ErrorLine(); got != tc.want {
			t.Errorf("ErrorLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSessionJobRows: session jobs are rows of their own kind, listed
// apart from FlinkDeployments and never confused with one of their name;
// their session cluster shows their count; deleting one removes only it.
func TestSessionJobRows(t *testing.T) {
	ix := New()
	ix.UpsertDeployment(Deployment{Cluster: "m1", Namespace: "a", Name: "session", LifecycleState: "STABLE"})
	ix.UpsertDeployment(Deployment{Cluster: "m1", Namespace: "a", Name: "other"})
	for _, name := range []string{"session", "job-2"} { // a session job named like its cluster
		ix.UpsertDeployment(Deployment{Kind: fleetv1.KindFlinkSessionJob, Cluster: "m1", Namespace: "a", Name: name, SessionCluster: "session"})
	}
	ix.UpsertDeployment(Deployment{Kind: fleetv1.KindFlinkSessionJob, Cluster: "m1", Namespace: "b", Name: "elsewhere", SessionCluster: "session"})

	deployments := ix.Deployments(Filter{})
	if got := keys(deployments); !reflect.DeepEqual(got, []string{"m1/a/other", "m1/a/session"}) {
		t.Fatalf("FlinkDeployments: %v", got)
	}
	if deployments[1].SessionJobs != 2 || deployments[0].SessionJobs != 0 {
		t.Errorf("session job counts: %+v", deployments)
	}
	jobs := ix.Deployments(Filter{Kind: fleetv1.KindFlinkSessionJob, Namespace: "a"})
	if got := keys(jobs); !reflect.DeepEqual(got, []string{"m1/a/sessionjob:job-2", "m1/a/sessionjob:session"}) {
		t.Fatalf("session jobs: %v", got)
	}
	ix.DeleteDeployment(KeyOf(&jobs[1]))
	if got := keys(ix.Deployments(Filter{})); len(got) != 2 {
		t.Fatalf("deleting the session job removed a FlinkDeployment: %v", got)
	}
	if n := ix.CountDeployments("m1"); n != 2 {
		t.Errorf("CountDeployments = %d, want the 2 FlinkDeployments", n)
	}
}

// countingPlacer places a key with replica-<len(name)%2> and counts the
// keys it was asked.
type countingPlacer struct{ asked int }

func (p *countingPlacer) Place(keys []Key) []Placement {
	p.asked += len(keys)
	out := make([]Placement, len(keys))
	for i, k := range keys {
		out[i] = Placement{Owner: "replica-" + strconv.Itoa(len(k.Name)%2)}
	}
	return out
}

// TestPage walks every filter's pages with several page sizes: the pages
// hold the filter's rows in key order, each once, none after the last
// page, and a page costs its own rows, not the fleet's.
func TestPage(t *testing.T) {
	placer := &countingPlacer{}
	ix := New(WithPlacer(placer))
	var all []Deployment
	// Clusters and namespaces that are prefixes of others: key order is
	// (cluster, namespace, name), not the order of the joined strings.
	for _, cluster := range []string{"m", "m1", "m10", "m2"} {
		for _, ns := range []string{"a", "a-b", "ab"} {
			for i, name := range []string{"x", "xy", "y", "z10", "z9"} {
				d := Deployment{Kind: fleetv1.KindFlinkDeployment, Cluster: cluster, Namespace: ns, Name: name, LifecycleState: []string{"STABLE", "FAILED"}[i%2]}
				ix.UpsertDeployment(d)
				all = append(all, d)
				// A session job of the same key is another kind's row.
				ix.UpsertDeployment(Deployment{Kind: fleetv1.KindFlinkSessionJob, Cluster: cluster, Namespace: ns, Name: name, SessionCluster: name})
			}
		}
	}
	for _, f := range []Filter{
		{},
		{Cluster: "m1"},
		{Cluster: "m10", Namespace: "a"},
		{Namespace: "ab", LifecycleState: "FAILED"},
		{Owner: "replica-1"},
		{Cluster: "m2", Owner: "replica-0", LifecycleState: "STABLE"},
		{Cluster: "m3"},
		{Cluster: "m1", Namespace: "a-b"},
		{Cluster: "m1", Namespace: "a"},
		{Cluster: "m10", Namespace: "ab", Name: "xy"},
		{Cluster: "m10", Namespace: "ab", Name: "x", LifecycleState: "FAILED"},
		{Name: "z9"},
		{Namespace: "a", Name: "y"},
	} {
		want := wantedKeys(all, f)
		if got := keys(ix.Deployments(f)); !reflect.DeepEqual(got, want) {
			t.Fatalf("Deployments(%+v) = %v, want %v", f, got, want)
		}
		for _, limit := range []int{1, 2, 3, 7, 1000} {
			if got := walkPages(t, ix, placer, f, limit, len(all)); !reflect.DeepEqual(got, want) && len(got)+len(want) > 0 {
				t.Fatalf("%+v, limit %d: pages hold %v, want %v", f, limit, got, want)
			}
		}
	}
	// A page continues after its key even when that row went away, and a
	// key before the cluster filter's starts at the cluster.
	ix.DeleteDeployment(Key{Cluster: "m1", Namespace: "a", Name: "xy"})
	if rows, _ := ix.Page(Filter{}, &Key{Cluster: "m1", Namespace: "a", Name: "xy"}, 1); len(rows) != 1 || KeyOf(&rows[0]).String() != "m1/a/y" {
		t.Fatalf("after a deleted key: %v", keys(rows))
	}
	if rows, _ := ix.Page(Filter{Cluster: "m2"}, &Key{Cluster: "m1", Namespace: "zz", Name: "zz"}, 1); len(rows) != 1 || KeyOf(&rows[0]).String() != "m2/a/x" {
		t.Fatalf("a key before the cluster: %v", keys(rows))
	}
	if rows, more := ix.Page(Filter{Cluster: "m1"}, &Key{Cluster: "m10", Namespace: "a", Name: "a"}, 1); len(rows) != 0 || more {
		t.Fatalf("a key after the cluster: %v, more %v", keys(rows), more)
	}
}

// wantedKeys are the keys of the rows of all that f selects, in key order,
// with the countingPlacer's owners. Written out, not with f.matches: the
// test judges it.
func wantedKeys(all []Deployment, f Filter) []string {
	var rows []Deployment
	for _, d := range all {
		if (f.Cluster == "" || d.Cluster == f.Cluster) && (f.Namespace == "" || d.Namespace == f.Namespace) &&
			(f.Name == "" || d.Name == f.Name) && (f.LifecycleState == "" || d.LifecycleState == f.LifecycleState) &&
			(f.Owner == "" || f.Owner == "replica-"+strconv.Itoa(len(d.Name)%2)) {
			rows = append(rows, d)
		}
	}
	slices.SortFunc(rows, func(a, b Deployment) int { return CompareKeys(KeyOf(&a), KeyOf(&b)) })
	return keys(rows)
}

// walkPages reads every page of f, limit rows at a time, checking each
// page's size and what it placed, and returns the keys they held.
func walkPages(t *testing.T, ix *Index, placer *countingPlacer, f Filter, limit, most int) []string {
	t.Helper()
	var got []string
	var after *Key
	for pages := 0; ; pages++ {
		if pages > most {
			t.Fatalf("%+v, limit %d: no last page", f, limit)
		}
		placer.asked = 0
		rows, more := ix.Page(f, after, limit)
		if len(rows) > limit || (more && len(rows) < limit) || (pages > 0 && len(rows) == 0) {
			t.Fatalf("%+v, limit %d, page %d: %d rows, more %v", f, limit, pages, len(rows), more)
		}
		if f.Owner == "" && placer.asked > limit+1 {
			t.Fatalf("%+v, limit %d: a page placed %d keys", f, limit, placer.asked)
		}
		got = append(got, keys(rows)...)
		if !more {
			return got
		}
		last := KeyOf(&rows[len(rows)-1])
		after = &last
	}
}
