package sharding

import (
	"context"
	"fmt"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/sharding"
	"github.com/flink-hub/flink-hub/internal/sharding/shardkey"
)

const (
	hubNamespace   = "flink-hub-system"
	appNamespace   = "apps"
	perMember      = 150
	shards         = sharding.DefaultShards
	gracefulBudget = 2 * time.Second
)

// registerMembers registers every member in hubNS as `cluster add` does.
func registerMembers(t testing.TB, ctx context.Context, hubNS string) {
	t.Helper()
	if err := fleet.RegisterMembers(ctx, hubNS); err != nil {
		t.Fatal(err)
	}
}

// createFlinkDeployments creates perMember FlinkDeployments in every member
// (keeping those that exist) and returns every key.
func createFlinkDeployments(t testing.TB, ctx context.Context) []string {
	t.Helper()
	var (
		mu   sync.Mutex
		keys []string
		wg   sync.WaitGroup
		errs = make(chan error, len(fleet.Members)*8)
	)
	for _, m := range fleet.Members {
		if err := m.CreateNamespace(ctx, appNamespace); client.IgnoreAlreadyExists(err) != nil {
			t.Fatal(err)
		}
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < perMember; i += 8 {
					fd := &flinkv1beta1.FlinkDeployment{
						ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("job-%03d", i), Namespace: appNamespace},
						Spec:       flinkv1beta1.FlinkDeploymentSpec{Image: "flink:1.20"},
					}
					if err := m.Client.Create(ctx, fd); client.IgnoreAlreadyExists(err) != nil {
						errs <- err
						return
					}
					mu.Lock()
					keys = append(keys, shardkey.Key{Cluster: m.Name, Namespace: appNamespace, Name: fd.Name}.String())
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sort.Strings(keys)
	return keys
}

// churn updates the FlinkDeployments of keys round-robin, about 50 per
// second, until ctx ends; it then sends the number of updates.
func churn(ctx context.Context, keys []string) chan int {
	done := make(chan int, 1)
	members := map[string]client.Client{}
	for _, m := range fleet.Members {
		members[m.Name] = m.Client
	}
	go func() {
		n := 0
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				done <- n
				return
			case <-t.C:
			}
			k, _ := shardkey.Parse(keys[i%len(keys)])
			c, ns, name := k.Cluster, k.Namespace, k.Name
			fd := &flinkv1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
			patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"metadata":{"annotations":{"e2e/churn":"%d"}}}`, i)))
			if members[c].Patch(ctx, fd, patch) == nil {
				n++
			}
		}
	}()
	return done
}

func ids(rs []*replica) []sharding.Member {
	var out []sharding.Member
	for _, r := range rs {
		out = append(out, sharding.Member{ID: r.id, Weight: 1})
	}
	return out
}

// held waits until the fences are held as Assign says for the replicas.
func held(t testing.TB, ctx context.Context, ns string, rs []*replica, timeout time.Duration) (map[int]fence, time.Duration) {
	t.Helper()
	want := sharding.Assign(ids(rs), shards)
	var got map[int]fence
	took := eventually(t, timeout, func() error {
		for _, r := range rs {
			if err := r.gone(); err != nil {
				t.Fatal(err)
			}
		}
		var err error
		if got, err = fences(ctx, ns); err != nil {
			return err
		}
		for k, id := range want {
			if got[k].holder != id {
				return fmt.Errorf("shard %d held by %q, assigned to %q", k, got[k].holder, id)
			}
		}
		return nil
	})
	return got, took
}

// reconciledSince waits until every key of the shards has a finished
// reconcile that started after since.
func reconciledSince(t testing.TB, rs []*replica, keys []string, inShards map[int]bool, since time.Time, timeout time.Duration) time.Duration {
	t.Helper()
	return reconciledSinceBy(t, rs, keys, inShards, defaultShardOf, since, timeout)
}

// defaultShardOf is the shard of a key without a member spread.
func defaultShardOf(key string) int { return sharding.ShardOf(key, shards) }

// reconciledSinceBy is reconciledSince with the replicas' shard function.
func reconciledSinceBy(t testing.TB, rs []*replica, keys []string, inShards map[int]bool, shardOf func(string) int, since time.Time, timeout time.Duration) time.Duration {
	t.Helper()
	return eventually(t, timeout, func() error {
		recs, _ := readRecords(t, rs)
		done := map[string]bool{}
		for _, iv := range recs {
			if !iv.Open && iv.Start.After(since) {
				done[iv.Key] = true
			}
		}
		missing := 0
		example := ""
		for _, k := range keys {
			if (inShards == nil || inShards[shardOf(k)]) && !done[k] {
				missing++
				example = k
			}
		}
		if missing > 0 {
			return fmt.Errorf("%d keys not reconciled yet, e.g. %s", missing, example)
		}
		return nil
	})
}

// reowned waits until another replica holds each of the shards the old
// holder had, and returns how long that took.
func reowned(t testing.TB, ctx context.Context, ns string, shards map[int]bool, old string, timeout time.Duration) time.Duration {
	t.Helper()
	return eventually(t, timeout, func() error {
		f, err := fences(ctx, ns)
		if err != nil {
			return err
		}
		for k := range shards {
			if h := f[k].holder; h == old || h == "" {
				return fmt.Errorf("shard %d held by %q", k, h)
			}
		}
		return nil
	})
}

func shardsOf(f map[int]fence, id string) map[int]bool {
	out := map[int]bool{}
	for k, fe := range f {
		if fe.holder == id {
			out[k] = true
		}
	}
	return out
}

func TestShardedReplicas(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir, kubeconfig := workDir(t)
	registerMembers(t, ctx, hubNamespace)
	keys := createFlinkDeployments(t, ctx)
	t.Logf("%d FlinkDeployments in %d members", len(keys), len(fleet.Members))

	// Keep changing FlinkDeployments for the whole test, so reconciles are
	// in flight while shards move.
	endChurn := startChurn(ctx, keys)
	defer endChurn()

	began := time.Now()
	var all []*replica
	for i := range 3 {
		all = append(all, startReplica(t, dir, kubeconfig, hubNamespace, fmt.Sprintf("replica-%d", i)))
	}
	live := append([]*replica{}, all...)
	defer func() {
		if t.Failed() {
			t.Logf("replica logs and records are in %s", dir)
		}
	}()

	// 1. Three replicas: every replica owns shards, every key is reconciled.
	before, _ := held(t, ctx, hubNamespace, live, time.Minute)
	for _, r := range live {
		if len(shardsOf(before, r.id)) == 0 {
			t.Fatalf("%s owns no shard", r.id)
		}
	}
	reconciledSince(t, all, keys, nil, began, time.Minute)
	t.Logf("3 replicas: all %d keys reconciled %v after start", len(keys), time.Since(began).Round(time.Millisecond))

	// The shards table adds up to every key, each shard counted by its owner.
	checkShardTableCountsEveryKey(t, ctx, len(keys))

	// A second process with a live replica's identity refuses to start.
	checkTwinRefused(t, dir, kubeconfig, live[0].id)

	// 2. A fourth replica joins: at most 1.25x the ideal share moves, and
	// no shard that stays is interrupted.
	joined := time.Now()
	r4 := startReplica(t, dir, kubeconfig, hubNamespace, "replica-3")
	all, live = append(all, r4), append(live, r4)
	after, _ := held(t, ctx, hubNamespace, live, time.Minute)
	checkJoinMovedFewShards(t, all, before, after, joined)

	// 3. SIGKILL: the victim's shards are owned again and all their keys
	// reconciled within lease duration + 5 s.
	victim := live[1]
	lost := shardsOf(after, victim.id)
	victim.kill(t)
	live = append(live[:1], live[2:]...)
	budget := leaseDuration + 5*time.Second
	ownedIn := reowned(t, ctx, hubNamespace, lost, victim.id, budget)
	reconciledSince(t, all, keys, lost, victim.killed, budget-time.Since(victim.killed))
	t.Logf("SIGKILL %s: %d shards owned again after %v, their keys reconciled after %v (lease duration %v)",
		victim.id, len(lost), ownedIn.Round(time.Millisecond), time.Since(victim.killed).Round(time.Millisecond), leaseDuration)
	held(t, ctx, hubNamespace, live, 30*time.Second)

	// 4. SIGTERM: the leaver's shards are owned again within 2 s.
	leaver := live[len(live)-1]
	live = live[:len(live)-1]
	checkGracefulHandoff(t, ctx, leaver, live, all, keys)

	// 5. Stop the churn and the rest, and audit every reconcile of the
	// whole test.
	if n := endChurn(); n == 0 {
		t.Error("no FlinkDeployment was changed during the test")
	} else {
		t.Logf("%d FlinkDeployment updates during the test", n)
	}
	stopReplicas(t, live)
	auditReconciles(t, all, victim.id)
}

// workDir makes a folder for the replicas' logs and records, kept if the
// test fails, with the hub's kubeconfig in it; it returns both paths.
func workDir(t testing.TB) (dir, kubeconfig string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "sharding-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			_ = os.RemoveAll(dir)
		}
	})
	kubeconfig = filepath.Join(dir, "hub.kubeconfig")
	if err := os.WriteFile(kubeconfig, fleet.Hub.Kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, kubeconfig
}

// checkShardTableCountsEveryKey waits until the shards table adds up to
// the n keys, each shard counted by its owner.
func checkShardTableCountsEveryKey(t testing.TB, ctx context.Context, n int) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(fleet.Hub.Config)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error {
		table, err := shardlease.ReadTable(ctx, cs, hubNamespace)
		if err != nil {
			return err
		}
		sum := 0
		for _, r := range table.ByReplica() {
			sum += r.Keys
		}
		if sum != n || len(table.Rows) != shards {
			return fmt.Errorf("table counts %d keys in %d shards, want %d in %d", sum, len(table.Rows), n, shards)
		}
		return nil
	})
}

// checkTwinRefused starts a second process with the identity id of a live
// replica and checks that it refuses to start, saying why.
func checkTwinRefused(t testing.TB, dir, kubeconfig, id string) {
	t.Helper()
	twin := startReplicaAs(t, dir, kubeconfig, hubNamespace, id, id+".twin")
	select {
	case err := <-twin.exited:
		twin.exited <- err
		if err == nil {
			t.Fatal("a second replica-0 exited 0, want a refusal")
		}
		out, _ := os.ReadFile(filepath.Join(dir, id+".twin.log"))
		if !strings.Contains(string(out), "another live replica holds this identity") {
			t.Errorf("the twin's log does not say why it refused:\n%s", out)
		}
	case <-time.After(2 * leaseDuration):
		t.Fatal("a second replica-0 did not refuse to start")
	}
}

// checkJoinMovedFewShards checks, from the fences before and after a
// replica joined at joined, that at most 1.25x the ideal share of shards
// moved, and that no shard that stayed changed hands or was acquired
// again.
func checkJoinMovedFewShards(t testing.TB, all []*replica, before, after map[int]fence, joined time.Time) {
	t.Helper()
	moved := 0
	for k := range shards {
		if before[k].holder != after[k].holder {
			moved++
			continue
		}
		if before[k].transitions != after[k].transitions {
			t.Errorf("shard %d stayed with %s but its fence changed hands (%d -> %d transitions)", k, after[k].holder, before[k].transitions, after[k].transitions)
		}
	}
	if limit := 1.25 * shards / 4; float64(moved) > limit {
		t.Errorf("fourth replica moved %d shards, limit %.0f (1.25x ideal)", moved, limit)
	}
	_, acquires := readRecords(t, all)
	for _, a := range acquires {
		if time.Unix(0, a.Start).After(joined) && before[a.Shard].holder == after[a.Shard].holder {
			t.Errorf("shard %d did not move but %s acquired it after the join", a.Shard, a.Replica)
		}
	}
	t.Logf("fourth replica: %d of %d shards moved", moved, shards)
}

// auditReconciles checks the records of all replicas: every reconcile
// finished, but the SIGKILLed victim's, and no two replicas reconciled a
// key at the same time.
func auditReconciles(t testing.TB, all []*replica, victim string) {
	t.Helper()
	recs, _ := readRecords(t, all)
	for _, iv := range recs {
		if iv.Open && iv.Replica != victim {
			t.Errorf("%s started reconciling %s at %s and never finished", iv.Replica, iv.Key, iv.Start.Format(time.StampMicro))
		}
	}
	if bad := overlaps(recs); len(bad) > 0 {
		t.Fatalf("%d overlapping reconciles of the same key by two replicas:\n%s", len(bad), strings.Join(bad, "\n"))
	}
	t.Logf("audit: %d reconciles, no overlap", len(recs))
}

// startChurn keeps changing the FlinkDeployments of keys until the
// function it returns is called, which returns how many updates were made
// (the same on every call).
func startChurn(ctx context.Context, keys []string) func() int {
	churnCtx, stopChurn := context.WithCancel(ctx)
	churned := churn(churnCtx, keys)
	var (
		once    sync.Once
		updates int
	)
	return func() int {
		once.Do(func() { stopChurn(); updates = <-churned })
		return updates
	}
}

// checkGracefulHandoff SIGTERMs leaver and checks that its shards are
// owned again within gracefulBudget, that it exits cleanly, and that the
// remaining live replicas hold every shard and reconcile the keys of the
// handed shards again.
func checkGracefulHandoff(t testing.TB, ctx context.Context, leaver *replica, live, all []*replica, keys []string) {
	t.Helper()
	f, err := fences(ctx, hubNamespace)
	if err != nil {
		t.Fatal(err)
	}
	handed := shardsOf(f, leaver.id)
	termAt := leaver.terminate(t)
	handoff := reowned(t, ctx, hubNamespace, handed, leaver.id, gracefulBudget)
	leaver.exitedCleanly(t, renewDeadline)
	t.Logf("SIGTERM %s: %d shards owned again after %v", leaver.id, len(handed), handoff.Round(time.Millisecond))
	held(t, ctx, hubNamespace, live, 30*time.Second)
	reconciledSince(t, all, keys, handed, termAt, 30*time.Second)
}

// stopReplicas SIGTERMs every replica of live, then checks that each
// exits cleanly. How fast one replica's leave hands its shards over is
// the SIGTERM tests' subject (within the renew deadline); here all leave
// at once, each finding its successors leaving too, and every release is
// a Lease write to a hub apiserver that the other test packages load
// (each write bounded by the retry period, not the stop): the bound is
// only liveness. In two full `make test` runs a replica took more than
// 7 s, then more than 30 s, while the package alone stops in seconds; on
// a timeout the end of the replica's log is printed.
func stopReplicas(t testing.TB, live []*replica) {
	t.Helper()
	for _, r := range live {
		r.terminate(t)
	}
	for _, r := range live {
		r.exitedCleanly(t, stopAllBound)
	}
}

// stopAllBound is how long replicas that all leave at once may take to
// exit.
const stopAllBound = 90 * time.Second

// TestMemberSpreadReplicas: with --member-spread=1 each member's keys are
// reconciled by one replica, the holder of the member's home shard; the
// members of a SIGKILLed replica are reconciled again within lease
// duration + 5 s; and no key is ever reconciled by two replicas at once.
func TestMemberSpreadReplicas(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const ns = "flink-hub-spread"
	if err := fleet.Hub.CreateNamespace(ctx, ns); client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
	dir, kubeconfig := workDir(t)
	registerMembers(t, ctx, ns)
	keys := createFlinkDeployments(t, ctx)
	shardOf := func(key string) int { return sharding.MemberShardOf(key, shards, 1) }
	began := time.Now()
	var all []*replica
	for i := range 3 {
		id := fmt.Sprintf("spread-%d", i)
		all = append(all, startReplicaWith(t, dir, kubeconfig, ns, id, id, "--member-spread", "1"))
	}
	live := slices.Clone(all)
	before, _ := held(t, ctx, ns, live, time.Minute)
	reconciledSinceBy(t, all, keys, nil, shardOf, began, time.Minute)

	// Every reconcile of a member's key was its home shard holder's.
	recs, _ := readRecords(t, all)
	for _, iv := range recs {
		member, _, _ := strings.Cut(iv.Key, "/")
		if want := before[sharding.HomeShard(member, shards)].holder; iv.Replica != want {
			t.Fatalf("%s reconciled %s; member %s's home shard is %s's", iv.Replica, iv.Key, member, want)
		}
	}

	// The holder of the first member's home shard dies: its members move.
	victimID := before[sharding.HomeShard(fleet.Members[0].Name, shards)].holder
	var victim *replica
	for i, r := range live {
		if r.id == victimID {
			victim = r
			live = append(live[:i:i], live[i+1:]...)
			break
		}
	}
	lost := shardsOf(before, victim.id)
	victim.kill(t)
	budget := leaseDuration + 5*time.Second
	reowned(t, ctx, ns, lost, victim.id, budget)
	reconciledSinceBy(t, all, keys, lost, shardOf, victim.killed, budget-time.Since(victim.killed))
	t.Logf("SIGKILL %s: the keys of its %d shards reconciled again after %v", victim.id, len(lost), time.Since(victim.killed).Round(time.Millisecond))

	stopReplicas(t, live)
	auditReconciles(t, all, victim.id)
}
