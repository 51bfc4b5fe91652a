package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sys/unix"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/observability/reconcileaudit"

	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/deployer/native"
)

func TestPercentile(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		var out []time.Duration
		for _, v := range vs {
			out = append(out, time.Duration(v)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100..1, unsorted
	}
	for _, tc := range []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"median of odd", ms(3, 1, 2), 50, 2 * time.Millisecond},
		{"median of even is the lower", ms(4, 1, 3, 2), 50, 2 * time.Millisecond},
		{"p99 of 100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p100 is the max", ms(hundred...), 100, 100 * time.Millisecond},
		{"p99 of 10 is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.in, tc.p); got != tc.want {
				t.Fatalf("percentile(%v, %v) = %v, want %v", tc.in, tc.p, got, tc.want)
			}
		})
	}
}

func TestParseStatAndBusy(t *testing.T) {
	name, ppid, secs, err := parseStat([]byte("4242 (kube apiserver) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0 1000 100000 2000"))
	if err != nil || name != "kube apiserver" || ppid != 17 || secs != 3 {
		t.Fatalf("parseStat = %q, %d, %v, %v", name, ppid, secs, err)
	}
	// user nice system idle iowait irq softirq steal guest guest_nice
	busy, err := parseBusy([]byte("cpu  1000 10 200 5000 300 5 5 0 40 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"))
	if err != nil || busy != 12.2 {
		t.Fatalf("parseBusy = %v, %v; want 12.2 s (idle, iowait and guest not counted)", busy, err)
	}
	if _, err := parseBusy([]byte("intr 1 2 3")); err == nil {
		t.Fatal("a /proc/stat without its cpu line must be an error")
	}
	tree, err := treeCPU()
	if err != nil || tree[os.Getpid()].name != selfProgram {
		t.Fatalf("treeCPU has no entry for this process: %v, %v", tree[os.Getpid()], err)
	}
	got := cpuByProgram(map[int]procCPU{1: {"etcd", 1}, 2: {"etcd", 2}, 3: {"flink-hub", 5}},
		map[int]procCPU{1: {"etcd", 4}, 2: {"etcd", 3}, 4: {"flink-hub", 9}}) // pid 3 exited, pid 4 started
	if len(got) != 1 || got["etcd"] != 4 {
		t.Fatalf("cpuByProgram = %v, want etcd 4 only", got)
	}
}

func TestCountReconciles(t *testing.T) {
	at := func(s int) time.Time { return time.Unix(int64(s), 0) }
	ivs := []reconcileaudit.Interval{
		{Key: "a", Replica: "hub-0", Start: at(1), End: at(2)},
		{Key: "b", Replica: "hub-1", Start: at(3), End: at(5)},
		{Key: "c", Replica: "hub-1", Start: at(4), End: at(9)},
		{Key: "d", Replica: "hub-0", Start: at(4), Open: true},
	}
	n, per := countReconciles(ivs, func(iv reconcileaudit.Interval) bool { return !iv.End.After(at(6)) })
	if n != 2 || per["hub-0"] != 1 || per["hub-1"] != 1 {
		t.Fatalf("ended by 6: %d, %v; want 2, one each (the open one never counts)", n, per)
	}
}

func TestFirstReconciled(t *testing.T) {
	at := func(s int) time.Time { return time.Unix(int64(s), 0) }
	ivs := []reconcileaudit.Interval{
		{Key: "m/ns/a", Replica: "hub-1", Start: at(6), End: at(7)},
		{Key: "m/ns/a", Replica: "hub-0", Start: at(1), End: at(3)},
		{Key: "m/ns/b", Replica: "hub-0", Start: at(2), Open: true},
		{Key: "m/ns/b", Replica: "hub-1", Start: at(8), End: at(9)},
		{Key: "m/ns/c", Replica: "hub-0", Start: at(1), Open: true},
		{Key: "m/warmup/d", Replica: "hub-0", Start: at(0), End: at(1)},
	}
	created := map[string]time.Time{"m/ns/a": at(0), "m/ns/b": at(0), "m/ns/c": at(0)}
	got := firstReconciled(ivs, created)
	want := map[string]time.Time{"m/ns/a": at(3), "m/ns/b": at(9)}
	if len(got) != len(want) || !got["m/ns/a"].Equal(want["m/ns/a"]) || !got["m/ns/b"].Equal(want["m/ns/b"]) {
		t.Fatalf("first reconciles %v, want %v (the earliest end; open ones and keys not created are left out)", got, want)
	}
}

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and parentheses; utime 250, stime 50 ticks.
	line := []byte("4242 (flink hub (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0 1000 100000 2000 18446744073709551615")
	got, err := framework.ParseStatCPU(line)
	if err != nil || got != 3 {
		t.Fatalf("parseStatCPU = %v, %v; want 3 s", got, err)
	}
	if _, err := framework.ParseStatCPU([]byte("4242 (x) S 1")); err == nil {
		t.Fatal("a short line must be an error")
	}
	own, err := framework.CPUSeconds(os.Getpid())
	if err != nil || own < 0 {
		t.Fatalf("framework.CPUSeconds(self) = %v, %v", own, err)
	}
	if rss, err := peakRSSBytes(os.Getpid()); err != nil || rss <= 0 {
		t.Fatalf("peakRSSBytes(self) = %v, %v", rss, err)
	}
}

// TestTinyRun runs the benchmark end to end at a tiny scale (floor,
// convergence and the REST latency scenario with 1 and 3 replicas; no
// failover) and checks that every figure it reports was measured.
func TestTinyRun(t *testing.T) {
	ctrllog.SetLogger(logr.Discard())
	dir := t.TempDir()
	var stderr bytes.Buffer
	cfg, err := parseFlags([]string{"-members", "1", "-fds", "4", "-lease-duration", "6s", "-renew-deadline", "4s", "-retry-period", "1s", "-timeout", "2m", "-cpu-profile", "0", "-out", dir, "-json", filepath.Join(dir, "out.json"),
		"-md", filepath.Join(dir, "out.md"), "-skip-failover", "-latency-fds", "4", "-warm-up-per-member", "2", "-rest-latency", "5ms", "-throughput-window", "2s",
		"-spread-members", "3", "-spread-fds-per-member", "2", "-visibility-fds", "3", "-health-probe-interval", "250ms", "-hub-cpus", "auto", "-steady-window", "2s"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if code := run(ctx, cfg, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, stderr.String(), stdout.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res Results
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	checkFloors(t, res, 4)
	checkConvergences(t, res)
	checkLatencyAndSpread(t, res)
	checkApart(t, cfg, res)
	checkLeaseRenewalsCounted(t, res)
	if res.Audit.Reconciles == 0 || res.Audit.Overlaps != 0 {
		t.Errorf("audit %+v", res.Audit)
	}
	md, err := os.ReadFile(filepath.Join(dir, "out.md"))
	if err != nil || !strings.Contains(string(md), "| overlapping reconciles of one key | 0 | 0 | met |") || !strings.Contains(stdout.String(), "### Convergence") ||
		!strings.Contains(string(md), "| POST flinkdeployments | 1.00 | ") || !strings.Contains(string(md), "| throughput 3 replicas / 1 replica, 5 ms Flink REST latency |") ||
		!strings.Contains(string(md), "| many members: member watch streams of the hub, 3 replicas / 1 |") ||
		!strings.Contains(string(md), "| many members, 4 replicas: a change visible in `kubectl flinkhub get deployments` from every replica") ||
		!strings.Contains(string(md), "### Many members, steady state") ||
		!strings.Contains(string(md), "| many members, --member-spread=1: graceful handoff (SIGTERM) of whole members") ||
		!strings.Contains(string(md), "| many members, 3 replica(s): member health probes / MemberCluster status writes, per member per probe interval |") {
		t.Errorf("markdown:\n%s", md)
	}
}

// checkFloors checks the floors of a run of fds FlinkDeployments: each
// FlinkDeployment, the native deployer's objects and the status patches
// written, the CPU read; with the members reacting, the wait for every
// JobManager, whose pods the simulated kubelets created meanwhile.
func checkFloors(t *testing.T, res Results, fds int) {
	t.Helper()
	tmpl, err := template()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := native.New().Resources(tmpl, deployer.Inputs{})
	if err != nil {
		t.Fatal(err)
	}
	if want := fds * (1 + len(objs) + len(floorStatusWrites)); res.Floor == nil || res.Floor.Writes != want || res.Floor.Seconds <= 0 || res.Floor.MemberRequests["POST flinkdeployments"] != float64(fds) {
		t.Errorf("floor %+v, want %d writes", res.Floor, want)
	}
	if f := res.Floor; f == nil || f.BusyCores <= 0 || f.CPUByProgram["kube-apiserver"] <= 0 {
		t.Errorf("no CPU reading during the floor: %+v", f)
	}
	if f := res.FloorSimulated; f == nil || f.JobManagersSeconds < f.Seconds || f.MemberRequests["POST pods"] < float64(fds) {
		t.Errorf("simulated floor %+v", f)
	}
}

// checkLeaseRenewalsCounted: the bench counted the hub apiserver's
// requests, the replicas' Lease renewals among them. Every shard is
// renewed at one tick of the run's 1 s retry period, and a tiny
// convergence may end between two ticks (0.8 s), so some, not every one,
// of the run's five convergence windows holds renewals.
func checkLeaseRenewalsCounted(t *testing.T, res Results) {
	t.Helper()
	windows := append(slices.Clone(res.Convergence), res.Spread...)
	for _, c := range windows {
		if c.HubAPIServerRequests["PUT leases"] > 0 {
			return
		}
	}
	for _, c := range windows {
		t.Errorf("%d replicas, %.2f s: the hub apiserver served no Lease renewal: %v", c.Replicas, c.Seconds, c.HubAPIServerRequests)
	}
}

// checkConvergences checks the convergences with 1 and 3 replicas.
func checkConvergences(t *testing.T, res Results) {
	t.Helper()
	if len(res.Convergence) != 2 {
		t.Fatalf("want convergence with 1 and 3 replicas, got %+v", res.Convergence)
	}
	for i, c := range res.Convergence {
		if c.Replicas != []int{1, 3}[i] || c.FlinkDeployments != 4 || c.WarmUp != 2 || c.Seconds <= 0 || c.Reconciles < 4 || c.RatioToFloor <= 0 ||
			c.P99ToRunningSec < c.P50ToRunningSec || c.P50ToRunningSec <= 0 || len(c.PerReplica) != c.Replicas ||
			c.P50ToFirstReconcileSec <= 0 || c.P99ToFirstReconcileSec < c.P50ToFirstReconcileSec || c.P99ToFirstReconcileSec > c.P99ToRunningSec {
			t.Errorf("convergence %+v", c)
		}
		// Every program of the run used CPU; the machine was busy.
		if cpu := c.CPUByProgram; cpu["kube-apiserver"] <= 0 || cpu["etcd"] <= 0 || cpu["flink-hub"] <= 0 || cpu[selfProgram] <= 0 || c.BusyCores <= 0 {
			t.Errorf("CPU of the convergence with %d replicas: %v, %.2f cores busy", c.Replicas, cpu, c.BusyCores)
		}
		// The apiservers saw the fleet's creation and the hub's objects,
		// created (a first deployment creates, deployer.Claimer).
		if got := c.MemberRequests; got["POST flinkdeployments"] != 4 || got["POST deployments"] < 4 || got["PATCH flinkdeployments/status"] < 4 {
			t.Errorf("member requests of the convergence with %d replicas: %v", c.Replicas, got)
		}
		// Every FlinkDeployment got its status patches (DEPLOYED, STABLE at
		// least), read with their bodies from the audit logs, and one of them
		// recorded the job RUNNING.
		if sp := c.StatusPatches; sp == nil || sum(sp.FDsByPatches) != 4 || sp.FDsByPatches[0]+sp.FDsByPatches[1] != 0 || !anyChange(sp, "jobStatus.state=RUNNING") {
			t.Errorf("status patches of the convergence with %d replicas: %+v", c.Replicas, sp)
		}
		// The hub's own writes, from the audit logs: two status patches and
		// the Submit and JobStatusChanged events of every FlinkDeployment
		// in the fleet's namespace, and nothing of the fleet counted as
		// upkeep.
		if w := c.HubRequestsByResource; w == nil || w.InFleet["patch flinkdeployments/status"] < 8 || w.InFleet["create events"] < 8 ||
			w.Upkeep["patch flinkdeployments/status"]+w.Upkeep["create events"] != 0 {
			t.Errorf("hub writes of the convergence with %d replicas: %+v", c.Replicas, w)
		}
		for _, u := range c.PerReplica {
			if u.CPUSeconds <= 0 || u.PeakRSSBytes <= 0 || u.HeapAfterBytes <= 0 {
				t.Errorf("replica usage %+v", u)
			}
		}
		// Every replica serves the member, one probes it: with 3 replicas
		// probing each it would be about 3 per interval.
		if c.ProbesPerMemberInterval <= 0 || c.ProbesPerMemberInterval > 1.5 || c.StatusWritesPerMemberInterval > 1.5 {
			t.Errorf("with %d replicas, %.2f probes and %.2f MemberCluster status writes per member per interval", c.Replicas, c.ProbesPerMemberInterval, c.StatusWritesPerMemberInterval)
		}
		// The hub watches the member: FlinkDeployments and the objects it
		// creates, at least.
		if c.HubWatchStreams < 2 {
			t.Errorf("the hub's watch streams of the member with %d replicas: %v", c.Replicas, c.HubWatchStreams)
		}
	}
	if one, three := res.Convergence[0].HubWatchStreams, res.Convergence[1].HubWatchStreams; three < one {
		t.Errorf("3 replicas hold %v watch streams, 1 replica %v: every replica watches every member today", three, one)
	}
}

// sum adds the values of m.
func sum(m map[int]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// anyChange says whether a status patch of sp set field (as patchChange
// names it).
func anyChange(sp *StatusPatches, field string) bool {
	for change := range sp.ByChange {
		if slices.Contains(strings.Fields(change), field) {
			return true
		}
	}
	return false
}

// checkLatencyAndSpread checks the latency scenario and the many-members
// scenario.
func checkLatencyAndSpread(t *testing.T, res Results) {
	t.Helper()
	if len(res.Latency) != 2 || len(res.Throughput) != 2 {
		t.Fatalf("want the latency scenario with 1 and 3 replicas, got %+v and %+v", res.Latency, res.Throughput)
	}
	for i, tp := range res.Throughput {
		// 4 FlinkDeployments due every second for 2 s: several reconciles.
		if tp.Replicas != []int{1, 3}[i] || tp.RESTLatencyMs != 5 || tp.WindowSec < 2 || tp.Reconciles < 4 || tp.ReconcilesPerSec <= 0 || len(tp.PerReplica) != tp.Replicas {
			t.Errorf("throughput %+v", tp)
		}
	}
	// Many members, whole members per replica: adding replicas adds no
	// member watch streams (each member is watched by the one replica that
	// serves it).
	if len(res.Spread) != 3 {
		t.Fatalf("want the many-members scenario with 1, 3 and 4 replicas, got %+v", res.Spread)
	}
	for i, c := range res.Spread {
		if c.Replicas != []int{1, 3, 4}[i] || c.FlinkDeployments != 6 || c.Seconds <= 0 || c.HubWatchStreams < 2 {
			t.Errorf("many members %+v", c)
		}
		checkSteady(t, c)
	}
	if one, three := res.Spread[0].HubWatchStreams, res.Spread[1].HubWatchStreams; three > 1.2*one {
		t.Errorf("with a member spread 3 replicas hold %v member watch streams, 1 replica %v", three, one)
	}
	// One of the three replicas stopped gracefully: its shards, and the
	// members homed on them, were owned again and their keys reconciled
	// by the others, each some time after its shard's release, which
	// came after the signal. The last key's reconcile may end before the
	// bench sees the last shard owned again: that shard may hold no key,
	// and ownership is polled while reconciles are read from the audit.
	// For the same reason a release may be seen after the key's reconcile
	// by the new owner: the time after release can be 0.
	if h := res.SpreadHandoff; h == nil || h.Signal != "SIGTERM" || h.Shards == 0 || h.OwnedAgainSec <= 0 || (h.FlinkDeployments > 0 && (h.ReconciledSec <= 0 || h.AfterReleaseSec < 0 || h.AfterReleaseSec > h.ReconciledSec)) || h.Members > 3 {
		t.Errorf("handoff with a member spread %+v", h)
	}
	// The survivors reconciled every moved key, each observation asking
	// the simulated JobManager, and the bench read what that took.
	if h := res.SpreadHandoff; h != nil && h.FlinkDeployments > 0 {
		if c := h.Takeover; c == nil || c.Reconciles < h.FlinkDeployments || c.ReconcileMeanMs <= 0 || c.RESTCalls == 0 || c.RESTMeanMs <= 0 {
			t.Errorf("the survivors' takeover %+v, %d FlinkDeployments moved", c, h.FlinkDeployments)
		}
	}
	// Every replica's fleet API showed both changes of every
	// FlinkDeployment followed, the peers' rows included.
	if len(res.Visibility) != 2 {
		t.Fatalf("want the fleet visibility after 3 and 4 replicas, got %+v", res.Visibility)
	}
	for i, v := range res.Visibility {
		if r := []int{3, 4}[i]; v.Replicas != r || v.FlinkDeployments != 3 || v.Observations != r*3*2 || v.MaxSec < v.P50Sec || v.Slowest == "" || v.FirstAnswerSec <= 0 {
			t.Errorf("fleet visibility %+v", v)
		}
	}
}

// checkSteady checks the steady state measured after a many-members
// convergence: over the 2 s window every replica used CPU (its fence
// renewals at least) and left a CPU profile.
func checkSteady(t *testing.T, c *Convergence) {
	t.Helper()
	st := c.Steady
	if st == nil || st.Seconds < 2 || len(st.PerReplica) != c.Replicas || len(st.CPUProfiles) != c.Replicas {
		t.Fatalf("steady state of %d replicas: %+v", c.Replicas, st)
	}
	for i, u := range st.PerReplica {
		if u.Replica != fmt.Sprintf("hub-%d", i) || u.CPUMillisPerS <= 0 || u.ReconcilesPerS < 0 {
			t.Errorf("steady state of %d replicas: %+v", c.Replicas, u)
		}
	}
	for _, path := range st.CPUProfiles {
		if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
			t.Errorf("steady-state CPU profile %s: %v", path, err)
		}
	}
}

// checkApart checks the runs with the hub on CPUs apart (on a machine
// that has two CPUs or more): the replicas ran on the hub's CPUs, the
// control planes and the simulator on the others, and every other run on
// all of them (this process gave itself its CPUs back).
func checkApart(t *testing.T, cfg config, res Results) {
	t.Helper()
	if cfg.split == nil {
		if res.Apart != nil {
			t.Errorf("runs with the hub on CPUs apart without a split: %+v", res.Apart)
		}
		return
	}
	a := res.Apart
	if a == nil || a.FloorSimulated == nil || a.FloorSimulated.JobManagersSeconds <= 0 || len(a.Convergence) != 2 {
		t.Fatalf("runs with the hub on CPUs apart: %+v", a)
	}
	if a.HubCPUs != cfg.split.hubList || a.MemberCPUs != cfg.split.restList {
		t.Errorf("hub CPUs %q, member CPUs %q, want %q and %q", a.HubCPUs, a.MemberCPUs, cfg.split.hubList, cfg.split.restList)
	}
	all := joinCPUs(cpuList(&cfg.split.all))
	for i, c := range a.Convergence {
		if c.Replicas != []int{1, 3}[i] || len(c.PerReplica) != c.Replicas || c.Seconds <= 0 {
			t.Errorf("convergence with the hub on CPUs apart %+v", c)
		}
		for _, u := range c.PerReplica {
			if !sameCPUs(u.CPUsAllowed, a.HubCPUs) {
				t.Errorf("replica %s ran on CPUs %q, want %q", u.Replica, u.CPUsAllowed, a.HubCPUs)
			}
		}
		for _, program := range []string{"kube-apiserver", "etcd", selfProgram} {
			if got := c.CPUsByProgram[program]; len(got) != 1 || !sameCPUs(got[0], a.MemberCPUs) {
				t.Errorf("%s ran on CPUs %v with the hub apart, want %q", program, got, a.MemberCPUs)
			}
		}
	}
	// The many-members runs came after: everything on every CPU again.
	for _, c := range res.Spread {
		for _, program := range []string{"kube-apiserver", "flink-hub", selfProgram} {
			if got := c.CPUsByProgram[program]; len(got) != 1 || !sameCPUs(got[0], all) {
				t.Errorf("%s ran on CPUs %v in the many-members run of %d replicas, want %q", program, got, c.Replicas, all)
			}
		}
	}
}

// sameCPUs reports whether two CPU lists ("0-1", "0,1") name the same CPUs.
func sameCPUs(a, b string) bool {
	sa, errA := parseCPUList(a)
	sb, errB := parseCPUList(b)
	return errA == nil && errB == nil && slices.Equal(sa, sb)
}

func TestCPUSplitOf(t *testing.T) {
	var mine unix.CPUSet
	if err := unix.SchedGetaffinity(0, &mine); err != nil {
		t.Fatal(err)
	}
	cpus := cpuList(&mine)
	for _, flag := range []string{"", "none"} {
		if s, err := cpuSplitOf(flag); s != nil || err != nil {
			t.Errorf("-hub-cpus %q: %+v, %v; want no split", flag, s, err)
		}
	}
	s, err := cpuSplitOf("auto")
	switch {
	case err != nil:
		t.Fatalf("auto: %v", err)
	case len(cpus) < 2 && s != nil:
		t.Errorf("auto on %d CPU: %+v, want no split", len(cpus), s)
	case len(cpus) >= 2 && (s == nil || s.hub.Count() != len(cpus)-len(cpus)/2 || s.rest.Count() != len(cpus)/2 || s.hubList != joinCPUs(cpus[len(cpus)/2:])):
		t.Errorf("auto on CPUs %v: %+v", cpus, s)
	}
	bad := map[string]string{
		"x":            "CPU list",
		"1-y":          "CPU list",
		"4096":         "not one this process may use",
		joinCPUs(cpus): "at least one CPU each",
	}
	for flag, want := range bad {
		if _, err := cpuSplitOf(flag); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("-hub-cpus %q: %v, want an error saying %q", flag, err, want)
		}
	}
	if len(cpus) >= 2 {
		s, err := cpuSplitOf(strconv.Itoa(cpus[0]))
		if err != nil || s.hubList != strconv.Itoa(cpus[0]) || s.restList != joinCPUs(cpus[1:]) || !sameCPUs(joinCPUs(cpuList(&s.all)), joinCPUs(cpus)) {
			t.Errorf("-hub-cpus %d: %+v, %v", cpus[0], s, err)
		}
		if bin, args := s.hubCommand("/bin/hub", []string{"--a"}); bin != "taskset" || !slices.Equal(args, []string{"-c", s.hubList, "/bin/hub", "--a"}) {
			t.Errorf("hub command %s %v", bin, args)
		}
	}
	var none *cpuSplit
	if bin, args := none.hubCommand("/bin/hub", []string{"--a"}); bin != "/bin/hub" || !slices.Equal(args, []string{"--a"}) {
		t.Errorf("hub command without a split: %s %v", bin, args)
	}
}

func TestPerShard(t *testing.T) {
	exposition := `# HELP flinkhub_sharding_shard_last_unowned_seconds Per shard...
# TYPE flinkhub_sharding_shard_last_unowned_seconds gauge
flinkhub_sharding_shard_last_unowned_seconds{shard="3"} 0.052
flinkhub_sharding_shard_last_unowned_seconds{shard="17"} 10.01
flinkhub_sharding_shard_unowned_seconds_bucket{le="0.1"} 4
`
	got, err := perShard(exposition, unownedMetric)
	if err != nil || len(got) != 2 || got[3] != 0.052 || got[17] != 10.01 {
		t.Fatalf("perShard = %v, %v; want shard 3: 0.052, shard 17: 10.01 (other metrics ignored)", got, err)
	}
	for _, bad := range []string{
		unownedMetric + `{shard="x"} 1`,
		unownedMetric + `{shard="1"} y`,
		unownedMetric + `{shard="1",other="z"} 1`,
	} {
		if _, err := perShard(bad, unownedMetric); err == nil {
			t.Errorf("perShard(%q) gave no error", bad)
		}
	}
}
