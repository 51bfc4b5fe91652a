package main

import (
	"cmp"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/flink-hub/flink-hub/internal/observability/reconcileaudit"
)

// Results are every figure of one run; the JSON file holds them as is.
type Results struct {
	Machine          string    `json:"machine"`
	Command          string    `json:"command"`
	Started          time.Time `json:"started"`
	Seconds          float64   `json:"seconds"`
	Members          int       `json:"members"`
	FlinkDeployments int       `json:"flinkDeployments"`
	LeaseDurationSec float64   `json:"leaseDurationSeconds"`
	MemberQPS        float64   `json:"memberQPS"`
	MemberBurst      int       `json:"memberBurst"`
	// ProbeIntervalSec is the replicas' --health-probe-interval.
	ProbeIntervalSec float64        `json:"probeIntervalSeconds"`
	Floor            *Floor         `json:"floor,omitempty"`
	FloorSimulated   *Floor         `json:"floorSimulated,omitempty"`
	Convergence      []*Convergence `json:"convergence,omitempty"`
	Failover         []*Failover    `json:"failover,omitempty"`
	Joins            []*Join        `json:"joins,omitempty"`
	Upgrade          *Upgrade       `json:"upgrade,omitempty"`
	Latency          []*Convergence `json:"latency,omitempty"`
	// Spread are the many-members convergences (1, 3 and 4 replicas),
	// SpreadMembers members, the replicas' --member-spread MemberSpread.
	Spread        []*Convergence `json:"spread,omitempty"`
	SpreadMembers int            `json:"spreadMembers,omitempty"`
	MemberSpread  int            `json:"memberSpread,omitempty"`
	// SpreadHandoff is a graceful handoff of one of the three replicas
	// of the many-members scenario: whole members move.
	SpreadHandoff *Failover     `json:"spreadHandoff,omitempty"`
	Throughput    []*Throughput `json:"throughput,omitempty"`
	// Visibility are the fleet API's delays after the many-members
	// convergences of 3 and 4 replicas.
	Visibility []*Visibility `json:"visibility,omitempty"`
	// Apart are the simulated floor and the convergences run again with
	// the hub replicas on CPUs of their own.
	Apart *Apart `json:"apart,omitempty"`
	Audit Audit  `json:"audit"`
	Error string `json:"error,omitempty"`
}

// Apart is the simulated floor and the convergences of 1 and 3 replicas
// with the hub replicas on CPUs of their own (HubCPUs) and the member
// control planes and the simulator on the others (MemberCPUs), as in
// production, where hub replicas do not share CPUs with member
// apiservers.
type Apart struct {
	HubCPUs        string         `json:"hubCPUs"`
	MemberCPUs     string         `json:"memberCPUs"`
	FloorSimulated *Floor         `json:"floorSimulated,omitempty"`
	Convergence    []*Convergence `json:"convergence,omitempty"`
}

// Floor is what a plain client needs to write the hub's objects.
type Floor struct {
	FlinkDeployments int `json:"flinkDeployments"`
	// Simulated: the simulated kubelets and Flink reacted to the writes
	// (the floor proper runs without them).
	Simulated    bool    `json:"simulated"`
	Writes       int     `json:"writes"`
	Seconds      float64 `json:"seconds"`
	WritesPerSec float64 `json:"writesPerSecond"`
	// CPUByProgram and BusyCores are the CPU seconds by program and the
	// machine's busy cores during the writes, as in Convergence.
	CPUByProgram map[string]float64 `json:"cpuSecondsByProgram,omitempty"`
	BusyCores    float64            `json:"machineBusyCores"`
	// JobManagersSeconds (simulated only) is the time from the first write
	// until every JobManager Deployment was available: a writer that never
	// waits, on members that react.
	JobManagersSeconds float64 `json:"jobManagersSeconds,omitempty"`
	// MemberWrites are the writes the member apiservers counted meanwhile.
	MemberWrites float64 `json:"memberWrites"`
	// MemberRequests are the requests they served meanwhile, by verb and
	// resource.
	MemberRequests map[string]float64 `json:"memberRequests,omitempty"`
	// APIServerCPUProfile (simulated only) is a CPU profile of the first
	// member's kube-apiserver over the start of the writes, to compare
	// with the one of each convergence.
	APIServerCPUProfile string `json:"apiserverCpuProfile,omitempty"`
}

// Audit counts reconcile intervals and overlaps over all scenarios.
type Audit struct {
	Reconciles int            `json:"reconciles"`
	ByScenario map[string]int `json:"reconcilesByScenario"`
	Overlaps   int            `json:"overlaps"`
	Examples   []string       `json:"examples,omitempty"`
}

func (a *Audit) add(scenario string, ivs []reconcileaudit.Interval, overlaps []reconcileaudit.Overlap) {
	if a.ByScenario == nil {
		a.ByScenario = map[string]int{}
	}
	a.Reconciles += len(ivs)
	a.ByScenario[scenario] = len(ivs)
	a.Overlaps += len(overlaps)
	for _, o := range overlaps {
		if len(a.Examples) < 10 {
			a.Examples = append(a.Examples, scenario+": "+o.String())
		}
	}
}

// verdict says whether got meets a target.
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// measuredRun is one floor or convergence, a row or column of the CPU and
// request tables.
type measuredRun struct {
	name     string
	fds      int
	seconds  float64
	requests map[string]float64
	cpu      map[string]float64
	busy     float64
}

// runs lists the floors and convergences in the order they ran.
func (r *Results) runs() []measuredRun {
	var out []measuredRun
	for _, f := range []*Floor{r.Floor, r.FloorSimulated} {
		if f != nil {
			out = append(out, measuredRun{name: map[bool]string{false: "floor", true: "floor, simulated"}[f.Simulated], fds: f.FlinkDeployments,
				seconds: f.Seconds, requests: f.MemberRequests, cpu: f.CPUByProgram, busy: f.BusyCores})
		}
	}
	for _, c := range r.Convergence {
		out = append(out, measuredRun{name: fmt.Sprintf("convergence, %d replica(s)", c.Replicas), fds: c.FlinkDeployments,
			seconds: c.Seconds, requests: c.MemberRequests, cpu: c.CPUByProgram, busy: c.BusyCores})
	}
	if a := r.Apart; a != nil {
		if f := a.FloorSimulated; f != nil {
			out = append(out, measuredRun{name: "floor, simulated, hub CPUs apart", fds: f.FlinkDeployments,
				seconds: f.Seconds, requests: f.MemberRequests, cpu: f.CPUByProgram, busy: f.BusyCores})
		}
		for _, c := range a.Convergence {
			out = append(out, measuredRun{name: fmt.Sprintf("convergence, %d replica(s), hub CPUs apart", c.Replicas), fds: c.FlinkDeployments,
				seconds: c.Seconds, requests: c.MemberRequests, cpu: c.CPUByProgram, busy: c.BusyCores})
		}
	}
	return out
}

// cpuTable renders where the machine's CPU went during each floor's writes
// and each convergence.
func (r *Results) cpuTable(p func(string, ...any)) {
	var measured []measuredRun
	programs := map[string]bool{}
	for _, m := range r.runs() {
		if m.cpu == nil {
			continue
		}
		measured = append(measured, m)
		for name := range m.cpu {
			programs[name] = true
		}
	}
	if len(measured) == 0 {
		return
	}
	names := slices.Sorted(maps.Keys(programs))
	p("\n### CPU during the floors' writes and convergence (CPU seconds by program; the machine has %d cores)\n\n| run | seconds | cores busy | %s |\n|---|---|---|%s\n",
		runtime.NumCPU(), strings.Join(names, " | "), strings.Repeat("---|", len(names)))
	for _, m := range measured {
		cells := make([]string, len(names))
		for i, name := range names {
			cells[i] = fmt.Sprintf("%.1f", m.cpu[name])
		}
		p("| %s | %.1f | %.2f | %s |\n", m.name, m.seconds, m.busy, strings.Join(cells, " | "))
	}
}

// requestsTable renders the requests the member apiservers served per
// FlinkDeployment in the floors and convergences, by verb and resource,
// most first (by the last column).
func (r *Results) requestsTable(p func(string, ...any)) {
	var names []string
	var cols []map[string]float64
	var ns []int
	for _, m := range r.runs() {
		if m.requests != nil {
			names = append(names, m.name)
			cols, ns = append(cols, m.requests), append(ns, m.fds)
		}
	}
	if len(cols) == 0 {
		return
	}
	last := cols[len(cols)-1]
	keys := map[string]bool{}
	for _, col := range cols {
		for k := range col {
			keys[k] = true
		}
	}
	rows := slices.Collect(maps.Keys(keys))
	slices.SortFunc(rows, func(a, b string) int { return cmp.Or(cmp.Compare(last[b], last[a]), cmp.Compare(a, b)) })
	p("\n### Requests the member apiservers served, per FlinkDeployment\n\n| verb resource | %s |\n|---|%s\n", strings.Join(names, " | "), strings.Repeat("---|", len(names)))
	totals := make([]float64, len(cols))
	for _, k := range rows {
		cells := make([]string, len(cols))
		significant := false
		for i, col := range cols {
			v := col[k] / float64(max(ns[i], 1))
			totals[i] += v
			cells[i] = fmt.Sprintf("%.2f", v)
			significant = significant || v >= 0.01
		}
		if significant {
			p("| %s | %s |\n", k, strings.Join(cells, " | "))
		}
	}
	cells := make([]string, len(cols))
	for i, t := range totals {
		cells[i] = fmt.Sprintf("**%.2f**", t)
	}
	p("| all | %s |\n", strings.Join(cells, " | "))
}

// hubAPIServerTable renders the requests the hub cluster's apiserver
// served per second during each convergence, by verb and resource (those
// of at least 0.05 a second), most first by the last column.
func (r *Results) hubAPIServerTable(p func(string, ...any)) {
	var names []string
	var cols []map[string]float64
	for _, c := range r.Convergence {
		names, cols = append(names, fmt.Sprintf("convergence, %d replica(s)", c.Replicas)), append(cols, perSecond(c.HubAPIServerRequests, c.Seconds))
	}
	for _, c := range r.Spread {
		names, cols = append(names, fmt.Sprintf("many members, %d replica(s)", c.Replicas)), append(cols, perSecond(c.HubAPIServerRequests, c.Seconds))
	}
	keys := map[string]bool{}
	for _, col := range cols {
		for k, v := range col {
			keys[k] = keys[k] || v >= 0.05
		}
	}
	rows := slices.DeleteFunc(slices.Collect(maps.Keys(keys)), func(k string) bool { return !keys[k] })
	if len(rows) == 0 {
		return
	}
	last := cols[len(cols)-1]
	slices.SortFunc(rows, func(a, b string) int { return cmp.Or(cmp.Compare(last[b], last[a]), cmp.Compare(a, b)) })
	p("\n### Requests the hub cluster's apiserver served during the convergences, per second\n\n| verb resource | %s |\n|---|%s\n", strings.Join(names, " | "), strings.Repeat("---|", len(names)))
	for _, k := range rows {
		cells := make([]string, len(cols))
		for i, col := range cols {
			cells[i] = fmt.Sprintf("%.2f", col[k])
		}
		p("| %s | %s |\n", k, strings.Join(cells, " | "))
	}
}

// perSecond divides every count of counts by seconds (nil for none).
func perSecond(counts map[string]float64, seconds float64) map[string]float64 {
	if seconds <= 0 {
		return nil
	}
	out := make(map[string]float64, len(counts))
	for k, v := range counts {
		out[k] = v / seconds
	}
	return out
}

// Markdown renders the tables.
func (r *Results) Markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("Machine: %s. Run started %s, took %.0f s. Command: `%s`.\n\n", r.Machine, r.Started.Format(time.RFC3339), r.Seconds, r.Command)
	p("%d members, %d FlinkDeployments, member client %.0f QPS / burst %d, shard lease %.0f s.\n\n", r.Members, r.FlinkDeployments, r.MemberQPS, r.MemberBurst, r.LeaseDurationSec)
	if r.Error != "" {
		p("**The run failed**: %s\n\n", r.Error)
	}
	r.targetsTable(p)
	r.floorTable(p)
	convergenceTables(p, "Convergence (bulk creation until every FlinkDeployment is STABLE and RUNNING)", r.Convergence)
	r.cpuTable(p)
	r.requestsTable(p)
	r.hubAPIServerTable(p)
	statusPatchTables(p, r.Convergence)
	hubRequestsTable(p, r.Convergence)
	r.failoverTable(p)
	r.upgradeTable(p)
	convergenceTables(p, "Convergence with simulated Flink REST latency", r.Latency)
	convergenceTables(p, fmt.Sprintf("Many members (%d members, --member-spread=%d)", r.SpreadMembers, r.MemberSpread), r.Spread)
	steadyTable(p, r.Spread)
	r.visibilityTable(p)
	r.memberWorkTable(p)
	r.apartTables(p)
	r.throughputTable(p)
	r.auditSection(p)
	return b.String()
}

// targetsTable renders the figures that have a target, and whether each
// met it.
func (r *Results) targetsTable(p func(string, ...any)) {
	p("### Targets\n\n| figure | target | measured | |\n|---|---|---|---|\n")
	var r3 *Convergence
	for _, c := range r.Convergence {
		if c.Replicas == 3 {
			r3 = c
		}
	}
	if r3 != nil {
		p("| convergence / apiserver floor (%d FDs, %d members, 3 replicas) | <= 1.5 | %.2f | %s |\n", r3.FlinkDeployments, r.Members, r3.RatioToFloor, verdict(r3.RatioToFloor <= 1.5))
	}
	for _, f := range r.Failover {
		target, name := r.LeaseDurationSec+2, "crash failover (SIGKILL): lost shards owned and their keys reconciled"
		if f.Signal == "SIGTERM" {
			target, name = 1, "graceful handoff (SIGTERM): shards owned and keys reconciled"
		}
		p("| %s | <= %.0f s | %.2f s | %s |\n", name, target, f.ReconciledSec, verdict(f.ReconciledSec <= target))
	}
	for _, j := range r.Joins {
		p("| join (%s): longest a shard handed to it had no owner | <= 1 s | %.2f s | %s |\n", j.Replica, j.LongestUnownedSec, verdict(j.LongestUnownedSec <= 1))
	}
	if f := r.SpreadHandoff; f != nil {
		p("| many members, --member-spread=%d: graceful handoff (SIGTERM) of whole members, longest a moved key waited from its shard's release to its reconcile by the new owner | <= 1 s | %.2f s (all moved %.2f s after the signal, the stopped replica working until then; survivors' reconcile / Flink REST call: %s) | %s |\n", r.MemberSpread, f.AfterReleaseSec, f.ReconciledSec, takeoverText(f.Takeover), verdict(f.AfterReleaseSec <= 1))
	}
	p("| overlapping reconciles of one key | 0 | %d | %s |\n", r.Audit.Overlaps, verdict(r.Audit.Overlaps == 0))
	var maxHeap float64
	for _, c := range r.Convergence {
		maxHeap = max(maxHeap, c.HeapPerFDBytes)
	}
	if len(r.Convergence) > 0 {
		p("| hub heap per FlinkDeployment per replica | <= 16 KB | %.1f KB | %s |\n", maxHeap/1024, verdict(maxHeap <= 16*1024))
	}
	r.scaleOutTargets(p)
	if len(r.Throughput) == 2 {
		x := ratio(r.Throughput[1].ReconcilesPerSec, r.Throughput[0].ReconcilesPerSec)
		p("| throughput 3 replicas / 1 replica, %d ms Flink REST latency | >= 2.5 | %.2f | %s |\n", r.Throughput[0].RESTLatencyMs, x, verdict(x >= 2.5))
	}
}

// floorTable renders the apiserver floor, plain and simulated, if it was
// measured.
func (r *Results) floorTable(p func(string, ...any)) {
	if r.Floor == nil {
		return
	}
	p("\n### Apiserver floor\n\n| members simulated | FlinkDeployments | writes | writes the apiservers counted | seconds | writes/s | every JobManager available |\n|---|---|---|---|---|---|---|\n")
	for _, f := range []*Floor{r.Floor, r.FloorSimulated} {
		if f != nil {
			jm := "-"
			if f.JobManagersSeconds > 0 {
				jm = fmt.Sprintf("%.2f s", f.JobManagersSeconds)
			}
			p("| %s | %d | %d | %.0f | %.2f | %.0f | %s |\n", map[bool]string{false: "no (the floor)", true: "yes"}[f.Simulated], f.FlinkDeployments, f.Writes, f.MemberWrites, f.Seconds, f.WritesPerSec, jm)
		}
	}
}

// convergenceTables renders the convergences cs under title, then their
// replicas' resource use; nothing when there are none.
func convergenceTables(p func(string, ...any), title string, cs []*Convergence) {
	if len(cs) == 0 {
		return
	}
	p("\n### %s\n\n| replicas | FDs | REST latency | seconds | / floor | FDs/s | reconciles | reconciles/s | to first reconcile, p50 / p99 | p50 to RUNNING | p99 to RUNNING | member writes / FD | by the hub | member watch streams of the hub |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n", title)
	for _, c := range cs {
		toFloor := "-"
		if c.RatioToFloor > 0 {
			toFloor = fmt.Sprintf("%.2f", c.RatioToFloor)
		}
		n := float64(c.FlinkDeployments)
		p("| %d | %d | %d ms | %.2f | %s | %.1f | %d | %.1f | %.1f / %.1f s | %.2f s | %.2f s | %.1f | %.2f | %.0f |\n", c.Replicas, c.FlinkDeployments, c.RESTLatencyMs, c.Seconds, toFloor,
			c.ConvergedPerSec, c.Reconciles, c.ReconcilesPerSec, c.P50ToFirstReconcileSec, c.P99ToFirstReconcileSec, c.P50ToRunningSec, c.P99ToRunningSec, c.MemberWrites/n, c.HubWrites/n, c.HubWatchStreams)
	}
	p("\n| replicas | replica | CPU s | peak RSS | live heap before | after | heap / FD | reconciles/s |\n|---|---|---|---|---|---|---|---|\n")
	for _, c := range cs {
		for _, u := range c.PerReplica {
			p("| %d | %s | %.1f | %.0f MiB | %.1f MiB | %.1f MiB | %.1f KB | %.1f |\n", c.Replicas, u.Replica, u.CPUSeconds, float64(u.PeakRSSBytes)/(1<<20),
				u.HeapBeforeBytes/(1<<20), u.HeapAfterBytes/(1<<20), u.HeapPerFDBytes/1024, u.ReconcilesPerSec)
		}
	}
}

// afterRelease renders Failover.AfterReleaseSec; "-" for a crash, which
// releases nothing.
func afterRelease(f *Failover) string {
	if f.Signal != "SIGTERM" {
		return "-"
	}
	return fmt.Sprintf("%.2f s", f.AfterReleaseSec)
}

// failoverTable renders the failovers, if any ran.
func (r *Results) failoverTable(p func(string, ...any)) {
	if len(r.Failover) == 0 && r.SpreadHandoff == nil {
		return
	}
	p("\n### Failover (3 replicas, converged fleet)\n\nTimes from the signal; for a graceful handoff also the longest a key waited from its shard's release to its first reconcile by the new owner. The survivors' reconciles meanwhile: their mean, and the mean Flink REST call (an observation makes two at once; the bench's simulated JobManagers answer them).\n\n| signal | replica | shards lost | FDs affected | shards owned again | FDs reconciled again | longest wait after a release | survivors: reconcile / Flink REST call |\n|---|---|---|---|---|---|---|---|\n")
	for _, f := range r.Failover {
		p("| %s | %s | %d | %d | %.2f s | %.2f s | %s | %s |\n", f.Signal, f.Replica, f.Shards, f.FlinkDeployments, f.OwnedAgainSec, f.ReconciledSec, afterRelease(f), takeoverText(f.Takeover))
	}
	if f := r.SpreadHandoff; f != nil {
		p("| %s, many members (--member-spread=%d, %d members moved) | %s | %d | %d | %.2f s | %.2f s | %s | %s |\n", f.Signal, r.MemberSpread, f.Members, f.Replica, f.Shards, f.FlinkDeployments, f.OwnedAgainSec, f.ReconciledSec, afterRelease(f), takeoverText(f.Takeover))
	}
	if len(r.Joins) == 0 {
		return
	}
	p("\nA new replica joins after each (its process start and cache fill included in \"settled\"):\n\n| replica | shards handed to it | FDs | longest a shard had no owner | settled: its keys reconciled by it |\n|---|---|---|---|---|\n")
	for _, j := range r.Joins {
		p("| %s | %d | %d | %.2f s | %.2f s |\n", j.Replica, j.Shards, j.FlinkDeployments, j.LongestUnownedSec, j.SettledSec)
	}
}

// upgradeTable renders the rolling upgrade, if it ran.
func (r *Results) upgradeTable(p func(string, ...any)) {
	u := r.Upgrade
	if u == nil {
		return
	}
	p("\n### Rolling upgrade (parallelism 2 -> 4, last-state, every FD)\n\n| replicas | FDs | seconds | p50 per FD | p99 per FD |\n|---|---|---|---|---|\n")
	p("| %d | %d | %.2f | %.2f s | %.2f s |\n", u.Replicas, u.FlinkDeployments, u.Seconds, u.P50Sec, u.P99Sec)
}

// throughputTable renders the steady-state throughputs, if measured.
func (r *Results) throughputTable(p func(string, ...any)) {
	if len(r.Throughput) == 0 {
		return
	}
	p("\n### Throughput with simulated Flink REST latency (steady state, every FlinkDeployment due every %.2f s)\n\n", r.Throughput[0].ReconcileIntervalSec)
	p("| replicas | FDs | REST latency | window | reconciles | reconciles/s | per replica (reconciles/s, CPU s) |\n|---|---|---|---|---|---|---|\n")
	for _, t := range r.Throughput {
		var per []string
		for _, u := range t.PerReplica {
			per = append(per, fmt.Sprintf("%s %.1f, %.1f", u.Replica, u.ReconcilesPerSec, u.CPUSeconds))
		}
		p("| %d | %d | %d ms | %.0f s | %d | %.1f | %s |\n", t.Replicas, t.FlinkDeployments, t.RESTLatencyMs, t.WindowSec, t.Reconciles, t.ReconcilesPerSec, strings.Join(per, "; "))
	}
}

// auditSection renders the overlap audit and its examples.
func (r *Results) auditSection(p func(string, ...any)) {
	p("\n### Overlap audit\n\n%d reconciles audited over all scenarios (%v); overlapping reconciles of one key by two replicas: %d.\n", r.Audit.Reconciles, r.Audit.ByScenario, r.Audit.Overlaps)
	for _, ex := range r.Audit.Examples {
		p("- %s\n", ex)
	}
}

// scaleOutTargets renders issue 23's figures: the many-members ratios of 3
// replicas to 1, and the default convergence against the simulated floor.
func (r *Results) scaleOutTargets(p func(string, ...any)) {
	byReplicas := func(cs []*Convergence, n int) *Convergence {
		for _, c := range cs {
			if c.Replicas == n {
				return c
			}
		}
		return nil
	}
	cpu := func(c *Convergence) float64 {
		sum := 0.0
		for _, u := range c.PerReplica {
			sum += u.CPUSeconds
		}
		return sum
	}
	if one, three := byReplicas(r.Spread, 1), byReplicas(r.Spread, 3); one != nil && three != nil {
		x := ratio(cpu(three), cpu(one))
		// Per reconcile too: one replica that lags merges the wake-ups
		// three replicas serve one by one (BENCHMARKS.md).
		perReconcile := func(c *Convergence) float64 {
			if c.Reconciles == 0 {
				return 0
			}
			return cpu(c) / float64(c.Reconciles)
		}
		p("| many members: hub CPU seconds to converge, 3 replicas / 1 | <= 1.15 | %.2f (per reconcile %.2f) | %s |\n", x, ratio(perReconcile(three), perReconcile(one)), verdict(x <= 1.15))
		x = ratio(three.HeapPerFDBytes, one.HeapPerFDBytes)
		p("| many members: heap per FlinkDeployment per replica, 3 replicas / 1 | <= 0.45 | %.2f | %s |\n", x, verdict(x <= 0.45))
		x = ratio(three.HubWatchStreams, one.HubWatchStreams)
		p("| many members: member watch streams of the hub, 3 replicas / 1 | <= 1.2 | %.2f (%.0f / %.0f) | %s |\n", x, three.HubWatchStreams, one.HubWatchStreams, verdict(x <= 1.2))
		x = ratio(three.Seconds, one.Seconds)
		p("| many members: convergence, 3 replicas / 1 | <= 1.0 | %.2f | %s |\n", x, verdict(x <= 1.0))
	}
	for _, c := range r.Spread {
		// One more than the window holds is a probe at its edge.
		most := 1.0
		if c.Seconds > 0 {
			most += r.ProbeIntervalSec / c.Seconds
		}
		ok := c.ProbesPerMemberInterval <= most && c.StatusWritesPerMemberInterval <= most
		p("| many members, %d replica(s): member health probes / MemberCluster status writes, per member per probe interval | <= 1 each, whatever the replicas | %.2f / %.2f | %s |\n",
			c.Replicas, c.ProbesPerMemberInterval, c.StatusWritesPerMemberInterval, verdict(ok))
	}
	for _, v := range r.Visibility {
		p("| %s: a change visible in `kubectl flinkhub get deployments` from every replica, the slowest of %d | <= 2 s | %.2f s | %s |\n", v.Scenario, v.Observations, v.MaxSec, verdict(v.Observations > 0 && v.MaxSec <= 2))
	}
	if r.FloorSimulated != nil {
		for _, c := range r.Convergence {
			x := ratio(c.Seconds, r.FloorSimulated.JobManagersSeconds)
			p("| convergence / simulated floor, %d replica(s) | <= 1.25 | %.2f | %s |\n", c.Replicas, x, verdict(x <= 1.25))
			p("| requests the hub sends per FlinkDeployment, %d replica(s) | <= 8 | %s |\n", c.Replicas, hubRequestsCell(c))
		}
	}
	if a := r.Apart; a != nil && a.FloorSimulated != nil {
		for _, c := range a.Convergence {
			x := ratio(c.Seconds, a.FloorSimulated.JobManagersSeconds)
			p("| convergence / simulated floor, hub on CPUs apart (%s; members on %s), %d replica(s) | <= 1.25 | %.2f (%.1f / %.1f s) | %s |\n",
				a.HubCPUs, a.MemberCPUs, c.Replicas, x, c.Seconds, a.FloorSimulated.JobManagersSeconds, verdict(x <= 1.25))
		}
	}
}

// memberWorkTable renders the member health probes and MemberCluster
// status writes per member per probe interval of every convergence.
func (r *Results) memberWorkTable(p func(string, ...any)) {
	if len(r.Convergence)+len(r.Spread) == 0 {
		return
	}
	p("\n### Member health probes and MemberCluster status writes, per member per %s probe interval, during convergence (all replicas together)\n\n| scenario | members | replicas | probes | status writes |\n|---|---|---|---|---|\n", time.Duration(r.ProbeIntervalSec*float64(time.Second)))
	for _, run := range []struct {
		name    string
		members int
		cs      []*Convergence
	}{{"default", r.Members, r.Convergence}, {"many members", r.SpreadMembers, r.Spread}} {
		for _, c := range run.cs {
			p("| %s | %d | %d | %.2f | %.2f |\n", run.name, run.members, c.Replicas, c.ProbesPerMemberInterval, c.StatusWritesPerMemberInterval)
		}
	}
}

// visibilityTable renders how long changes took to show in the fleet
// API of every replica, if measured.
func (r *Results) visibilityTable(p func(string, ...any)) {
	if len(r.Visibility) == 0 {
		return
	}
	p("\n### Fleet API: a change visible from every replica (creation; STABLE and RUNNING)\n\n| scenario | replicas | FDs followed | observations | p50 | max | slowest | answers missing a peer | first answer (a new token) | slowest later answer |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, v := range r.Visibility {
		p("| %s | %d | %d | %d | %.2f s | %.2f s | %s | %d | %.2f s | %.2f s |\n", v.Scenario, v.Replicas, v.FlinkDeployments, v.Observations, v.P50Sec, v.MaxSec, v.Slowest, v.Incomplete, v.FirstAnswerSec, v.SlowestAnswerSec)
	}
}

// apartTables renders the simulated floor and the convergences run with
// the hub on CPUs of its own, if they ran.
func (r *Results) apartTables(p func(string, ...any)) {
	a := r.Apart
	if a == nil || a.FloorSimulated == nil {
		return
	}
	f := a.FloorSimulated
	p("\n### Hub on CPUs apart (hub replicas on CPUs %s; member control planes and the simulator on %s)\n\n", a.HubCPUs, a.MemberCPUs)
	p("Simulated floor: %d writes in %.2f s (%.0f/s), every JobManager available after %.2f s.\n", f.Writes, f.Seconds, f.WritesPerSec, f.JobManagersSeconds)
	convergenceTables(p, "Convergence, hub on CPUs apart", a.Convergence)
}

// steadyTable renders the steady states measured after the many-members
// convergences, if any: what each replica costs while nothing changes.
func steadyTable(p func(string, ...any), cs []*Convergence) {
	var rows []*Convergence
	for _, c := range cs {
		if c.Steady != nil {
			rows = append(rows, c)
		}
	}
	if len(rows) == 0 {
		return
	}
	p("\n### Many members, steady state (the converged fleet, nothing changing)\n\n| replicas | window | reconciles/s | hub CPU ms/s, all replicas | per replica: CPU ms/s (reconciles/s) |\n|---|---|---|---|---|\n")
	for _, c := range rows {
		st := c.Steady
		var per []string
		for _, u := range st.PerReplica {
			per = append(per, fmt.Sprintf("%s %.1f (%.1f)", u.Replica, u.CPUMillisPerS, u.ReconcilesPerS))
		}
		p("| %d | %.0f s | %.1f | %.1f | %s |\n", c.Replicas, st.Seconds, ratio(float64(st.Reconciles), st.Seconds), st.CPUMillisPerS(), strings.Join(per, ", "))
	}
}
