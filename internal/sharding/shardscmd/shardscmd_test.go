package shardscmd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/sharding"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
)

var hub *framework.ControlPlane

func TestMain(m *testing.M) {
	os.Exit(framework.RunWithControlPlane(m, framework.ControlPlaneOptions{Name: "shardscmd-hub"}, func(cp *framework.ControlPlane) { hub = cp }))
}

func runCommand(t *testing.T, ns string, args ...string) (string, error) {
	t.Helper()
	cmd := NewCommand(func() (*rest.Config, string, error) { return hub.Config, ns, nil })
	out := &bytes.Buffer{}
	cmd.SetOut(out)
	cmd.SetErr(out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestShardsCommandShowsHoldersAndKeys(t *testing.T) {
	const ns, shards = "flink-hub", 8
	if err := hub.CreateNamespace(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(hub.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var electors []*sharding.Elector
	done := make(chan error, 2)
	for _, id := range []string{"hub-a", "hub-b"} {
		e, err := sharding.New(cs, ns, id, sharding.WithShards(shards),
			sharding.WithTimings(8*time.Second, 5*time.Second, 500*time.Millisecond), // generous: the machine may be loaded
			sharding.WithKeyCount(func(shard int) int { return 10 + shard }))
		if err != nil {
			t.Fatal(err)
		}
		electors = append(electors, e)
		go func() { done <- e.Run(ctx) }()
	}
	defer func() {
		cancel()
		<-done
		<-done
	}()
	// The electors settle (both serve; every shard owned once) and the
	// renewals write the keys annotation: until then the table may show an
	// earlier holder, so the whole check is polled against what the
	// electors believe at that moment.
	framework.AwaitWithin(t, 30*time.Second, "the table matches the electors", func() error {
		want := map[int]string{}
		for _, e := range electors {
			mine := e.OwnedShards()
			if len(mine) == 0 {
				return fmt.Errorf("%s owns no shard yet", e.Identity())
			}
			for _, k := range mine {
				want[k] = e.Identity()
			}
		}
		if len(want) < shards {
			return fmt.Errorf("shards owned: %v", want)
		}
		out, err := runCommand(t, ns)
		if err != nil {
			t.Fatalf("shards: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != shards+1 || !strings.HasPrefix(lines[0], "SHARD") {
			t.Fatalf("want a header and %d rows, got:\n%s", shards, out)
		}
		for k := range shards {
			fields := strings.Fields(lines[k+1])
			if len(fields) != 4 || fields[0] != fmt.Sprint(k) || fields[1] != want[k] || fields[2] != fmt.Sprint(10+k) {
				return fmt.Errorf("row %d = %q, want shard %d held by %s with %d keys", k, lines[k+1], k, want[k], 10+k)
			}
		}
		return checkByReplica(t, ns, electors, want)
	})
}

// checkByReplica checks that `shards --by-replica` sums each elector's
// shards (want: shard -> holder) and their keys (10 + shard each).
func checkByReplica(t *testing.T, ns string, electors []*sharding.Elector, want map[int]string) error {
	t.Helper()
	out, err := runCommand(t, ns, "--by-replica")
	if err != nil {
		t.Fatalf("shards --by-replica: %v", err)
	}
	for _, e := range electors {
		n, sum := 0, 0
		for k, id := range want {
			if id == e.Identity() {
				n++
				sum += 10 + k
			}
		}
		if line := fmt.Sprintf("%s  %d       %d", e.Identity(), n, sum); !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(line), " ")) {
			return fmt.Errorf("--by-replica lacks %q:\n%s", line, out)
		}
	}
	return nil
}

func TestShardsCommandErrors(t *testing.T) {
	if err := hub.CreateNamespace(context.Background(), "empty"); err != nil {
		t.Fatal(err)
	}
	if _, err := runCommand(t, "empty"); err == nil || !strings.Contains(err.Error(), "no shard leases in namespace empty") {
		t.Errorf("empty namespace: got %v", err)
	}
	cmd := NewCommand(func() (*rest.Config, string, error) { return nil, "", fmt.Errorf("no current context") })
	cmd.SetArgs(nil)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "no current context") {
		t.Errorf("config error not passed on: %v", err)
	}
}

// TestPrintByReplicaShowsHandoffs: a replica stopping is marked leaving,
// one that announced shards ready lists them, the others show "-".
func TestPrintByReplicaShowsHandoffs(t *testing.T) {
	tbl := shardlease.Table{
		Shards: 4,
		Peers:  []string{"a", "b", "c"},
		Rows: []shardlease.ShardRow{
			{Shard: 0, Replica: "a", Keys: 5}, {Shard: 1, Replica: "a", Keys: 6},
			{Shard: 2, Replica: "c", Keys: 1}, {Shard: 3, Replica: "c", Keys: -1},
		},
		Leaving: map[string]bool{"a": true},
		Ready:   map[string][]int{"b": {0, 1}},
	}
	var out bytes.Buffer
	if err := PrintByReplica(&out, tbl); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n")[1:] {
		f := strings.Fields(line)
		got[f[0]] = strings.Join(f[1:], " ")
	}
	want := map[string]string{"a": "2 11 leaving", "b": "0 0 ready for 0,1", "c": "2 1 -"}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q, want %q (whole output:\n%s)", id, got[id], w, out.String())
		}
	}
}
