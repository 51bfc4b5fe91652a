package fleetindex

import (
	"reflect"
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
		out = append(out, d.Key().String())
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
	if len(got) != 1 || got[0].Key().String() != "m1/a/x" || got[0].Shard == nil || *got[0].Shard != 7 {
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
	ix.UpsertDeployment(Deployment{Cluster: "m1", Namespace: "a", Name: "old", engagement: 1})
	ix.UpsertDeployment(Deployment{Cluster: "m1", Namespace: "a", Name: "new", engagement: 2})
	ix.deleteClusterDeployments("m1", func(d *Deployment) bool { return d.engagement != 2 })
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
