package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/observability/reconcileaudit"
	"github.com/flink-hub/flink-hub/internal/sharding"
)

// Convergence is the result of one bulk creation.
type Convergence struct {
	Replicas         int `json:"replicas"`
	FlinkDeployments int `json:"flinkDeployments"`
	// WarmUp FlinkDeployments (another namespace) ran before the heap was
	// first measured and the fleet created.
	WarmUp        int     `json:"warmUpFlinkDeployments"`
	RESTLatencyMs int     `json:"restLatencyMs"`
	Seconds       float64 `json:"seconds"`
	RatioToFloor  float64 `json:"ratioToFloor,omitempty"`
	// Steady is the converged fleet's steady state, when measured.
	Steady           *Steady `json:"steady,omitempty"`
	Reconciles       int     `json:"reconciles"`
	ReconcilesPerSec float64 `json:"reconcilesPerSecond"`
	ConvergedPerSec  float64 `json:"convergedPerSecond"`
	P50ToRunningSec  float64 `json:"p50CreationToRunningSeconds"`
	P99ToRunningSec  float64 `json:"p99CreationToRunningSeconds"`
	// P50ToFirstReconcileSec and P99ToFirstReconcileSec are the time from
	// a FlinkDeployment's creation to the end of its first reconcile (the
	// deploy): how long the hub kept it waiting.
	P50ToFirstReconcileSec float64 `json:"p50CreationToFirstReconcileSeconds"`
	P99ToFirstReconcileSec float64 `json:"p99CreationToFirstReconcileSeconds"`
	PerReplica             []Usage `json:"perReplica"`
	HeapPerFDBytes         float64 `json:"maxHeapBytesPerFlinkDeploymentPerReplica"`
	// CPUsByProgram are the CPU lists every program of the run was
	// allowed at the end of the convergence (/proc/<pid>/status).
	CPUsByProgram map[string][]string `json:"cpusByProgram,omitempty"`
	// MemberWrites are the writes the member apiservers served from bulk
	// creation to convergence (the benchmark's creations, the hub, and the
	// simulated kubelets and Flink clusters); HubWrites those the hub sent.
	MemberWrites float64 `json:"memberWrites"`
	HubWrites    float64 `json:"hubWrites"`
	CPUProfile   string  `json:"cpuProfile,omitempty"`
	// APIServerCPUProfile is a CPU profile of the first member's
	// kube-apiserver over the same time as CPUProfile.
	APIServerCPUProfile string `json:"apiserverCPUProfile,omitempty"`
	// SelfCPUProfile is a CPU profile of this program (the simulator, the
	// tracker) over the same time.
	SelfCPUProfile string `json:"benchCPUProfile,omitempty"`
	// ReplicaCPUProfiles are CPU profiles of every replica over the same
	// time, in the many-members scenario.
	ReplicaCPUProfiles []string `json:"replicaCpuProfiles,omitempty"`
	// CPUByProgram are the CPU seconds every program of the run (the
	// kube-apiservers, etcds, hub replicas and this program, which runs
	// the simulator) used during convergence, summed by program.
	CPUByProgram map[string]float64 `json:"cpuSecondsByProgram,omitempty"`
	// BusyCores is the machine's CPU time (all processes) during
	// convergence divided by its length: how many cores were busy.
	BusyCores float64 `json:"machineBusyCores"`
	// MemberRequests are the requests the member apiservers served during
	// convergence, by verb and resource ("PATCH flinkdeployments/status").
	MemberRequests map[string]float64 `json:"memberRequests,omitempty"`
	// HubAPIServerRequests are the requests the hub cluster's apiserver
	// served during convergence, likewise: the replicas' coordination
	// (shard and peer Leases, MemberCluster status).
	HubAPIServerRequests map[string]float64 `json:"hubApiserverRequests,omitempty"`
	// HubWatchStreams are the watch streams the member apiservers serve
	// once converged less those they served before any replica started:
	// the hub's, all replicas together.
	HubWatchStreams float64 `json:"hubWatchStreams"`
	// ProbesPerMemberInterval are the member health probes the member
	// apiservers served (their /readyz) per member per health probe
	// interval during convergence, all replicas together;
	// StatusWritesPerMemberInterval the MemberCluster status writes the
	// hub apiserver served, likewise. One replica per member does either.
	ProbesPerMemberInterval       float64 `json:"probesPerMemberPerInterval"`
	StatusWritesPerMemberInterval float64 `json:"memberClusterStatusWritesPerMemberPerInterval"`
	HeapProfile                   string  `json:"heapProfile,omitempty"`
	HeapProfileBefore             string  `json:"heapProfileBefore,omitempty"`
	// StatusPatches are what the hub's status patches changed.
	StatusPatches *StatusPatches `json:"statusPatches,omitempty"`
	// HubRequestsByResource are the hub's requests to the members but its
	// watches, from their audit logs: in the fleet's namespace (per
	// FlinkDeployment, the target's figure) and the member upkeep.
	HubRequestsByResource *HubRequests `json:"hubRequestsByResource,omitempty"`
	convergedAt           time.Time
	createdAt             map[string]time.Time
	heapBeforeByIndex     []float64
}

// Usage is one replica's resource use over a convergence.
type Usage struct {
	Replica          string  `json:"replica"`
	CPUSeconds       float64 `json:"cpuSeconds"`
	PeakRSSBytes     int64   `json:"peakRSSBytes"`
	HeapBeforeBytes  float64 `json:"liveHeapBeforeBytes"`
	HeapAfterBytes   float64 `json:"liveHeapAfterBytes"`
	HeapPerFDBytes   float64 `json:"heapBytesPerFlinkDeployment"`
	ReconcilesPerSec float64 `json:"reconcilesPerSecond"`
	// CPUsAllowed are the CPUs the replica may run on.
	CPUsAllowed string `json:"cpusAllowed"`
}

// converge starts r replicas, creates n FlinkDeployments and waits until
// all are STABLE and RUNNING.
func converge(ctx context.Context, e *env, tr *tracker, r, n int, profile bool) (*Convergence, error) {
	watchesBefore, err := e.memberWatches(ctx)
	if err != nil {
		return nil, err
	}
	if err := startReplicas(ctx, e, r); err != nil {
		return nil, err
	}
	res := &Convergence{Replicas: r, FlinkDeployments: n, RESTLatencyMs: int(e.latency.Milliseconds()), WarmUp: e.cfg.warmUpPerMember * len(e.members)}
	if err := warmUpAndProfileHeap(ctx, e, res, profile); err != nil {
		return nil, err
	}
	before, err := measureBeforeConvergence(ctx, e, res)
	if err != nil {
		return nil, err
	}
	tr.expect(stable)
	cpuProfile := startCPUProfiles(ctx, e, res, profile)
	cpuBefore, err := readCPU()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	created, err := createFleet(ctx, e.members, e.memberNames(), fdNamespace, n)
	if err != nil {
		return nil, err
	}
	matched, err := tr.wait(ctx, n, e.cfg.timeout)
	if err != nil {
		return nil, err
	}
	cpuAfter, err := readCPU()
	if err != nil {
		return nil, err
	}
	// Each replica's CPU up to this moment: what follows (counting,
	// profiles still running) is not the convergence's.
	if before.cpuAfter, err = replicaCPU(e); err != nil {
		return nil, err
	}
	res.CPUByProgram, res.BusyCores = cpuAfter.since(cpuBefore)
	if res.CPUsByProgram, err = cpusByProgram(); err != nil {
		return nil, err
	}
	if err := measureConvergence(ctx, e, res, before, cpuProfile, start, matched, created); err != nil {
		return nil, err
	}
	watches, err := e.memberWatches(ctx)
	if err != nil {
		return nil, err
	}
	res.HubWatchStreams = watches - watchesBefore
	// The hub's writes until now, not the convergence's end: the event a
	// last status write is followed by may reach its apiserver after the
	// bench saw the write.
	hubRequests, err := readHubRequests(e, start, time.Now())
	if err != nil {
		return nil, err
	}
	res.StatusPatches = statusPatchesOf(hubRequests, fdNamespace, res.convergedAt)
	res.HubRequestsByResource = hubRequestsOf(hubRequests, fdNamespace)
	if profile {
		res.HeapProfile = filepath.Join(e.dir, "heap-hub-0.pprof")
		if err := e.replicas[0].saveProfile(ctx, "heap?gc=1", res.HeapProfile); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// startReplicas starts r replicas and waits until their shards are held.
func startReplicas(ctx context.Context, e *env, r int) error {
	for i := range r {
		if _, err := e.startReplica(fmt.Sprintf("hub-%d", i)); err != nil {
			return err
		}
	}
	if err := e.waitShardsHeld(ctx, 2*time.Minute); err != nil {
		return fmt.Errorf("shards not held: %w%s", err, e.exits())
	}
	return nil
}

// warmUpAndProfileHeap runs the warm-up fleet res asks for and, when
// profiling, saves the first replica's heap profile before convergence.
func warmUpAndProfileHeap(ctx context.Context, e *env, res *Convergence, profile bool) error {
	if res.WarmUp > 0 {
		if err := warmUp(ctx, e.members, e.memberNames(), res.WarmUp, e.cfg.timeout); err != nil {
			return fmt.Errorf("warm-up fleet: %w", err)
		}
	}
	if profile {
		// The baseline of the heap profile after convergence: compare
		// them with go tool pprof -diff_base.
		res.HeapProfileBefore = filepath.Join(e.dir, "heap-before-hub-0.pprof")
		if err := e.replicas[0].saveProfile(ctx, "heap?gc=1", res.HeapProfileBefore); err != nil {
			return err
		}
	}
	return nil
}

// baseline is what convergence is measured from: the CPU seconds of
// every live replica and the writes counted so far.
type baseline struct {
	cpu    map[string]float64
	writes writeCount
	// cpuAfter are the replicas' CPU seconds when convergence ended.
	cpuAfter map[string]float64
}

// replicaCPU is the CPU seconds every live replica used so far, by id.
func replicaCPU(e *env) (map[string]float64, error) {
	cpu := map[string]float64{}
	for _, rep := range e.live() {
		s, err := framework.CPUSeconds(rep.proc.Pid())
		if err != nil {
			return nil, fmt.Errorf("CPU of %s: %w", rep.id, err)
		}
		cpu[rep.id] = s
	}
	return cpu, nil
}

// measureBeforeConvergence records every live replica's heap (in res) and
// CPU seconds, and the writes counted so far.
func measureBeforeConvergence(ctx context.Context, e *env, res *Convergence) (baseline, error) {
	var before baseline
	for _, rep := range e.live() {
		h, err := rep.liveHeap(ctx)
		if err != nil {
			return before, fmt.Errorf("heap of %s: %w", rep.id, err)
		}
		res.heapBeforeByIndex = append(res.heapBeforeByIndex, h)
	}
	var err error
	if before.cpu, err = replicaCPU(e); err != nil {
		return before, err
	}
	before.writes, err = e.writeCounts(ctx)
	return before, err
}

// profiles are CPU profiles being taken, each in its own goroutine.
type profiles struct {
	errs    chan error
	started int
}

// start takes one profile with save.
func (p *profiles) start(save func() error) {
	p.started++
	go func() { p.errs <- save() }()
}

// wait waits for every started profile and returns the first error.
func (p *profiles) wait() error {
	var first error
	for range p.started {
		if err := <-p.errs; err != nil && first == nil {
			first = fmt.Errorf("CPU profile: %w", err)
		}
	}
	return first
}

// startCPUProfiles starts, with a CPU profile length, CPU profiles over
// the start of convergence: when profiling, of the first replica, of the
// first member's kube-apiserver and of this program; when the env profiles
// every replica (the many-members scenario), of each replica.
func startCPUProfiles(ctx context.Context, e *env, res *Convergence, profile bool) *profiles {
	secs := int(e.cfg.cpuProfile.Seconds())
	p := &profiles{errs: make(chan error, 3+len(e.replicas))}
	if secs <= 0 {
		return p
	}
	query := fmt.Sprintf("profile?seconds=%d", secs)
	if profile {
		res.CPUProfile = filepath.Join(e.dir, "cpu-hub-0.pprof")
		res.APIServerCPUProfile = filepath.Join(e.dir, "cpu-kube-apiserver-member-1.pprof")
		res.SelfCPUProfile = filepath.Join(e.dir, "cpu-bench.pprof")
		p.start(func() error { return e.replicas[0].saveProfile(ctx, query, res.CPUProfile) })
		p.start(func() error { return e.saveAPIServerProfile(ctx, secs, res.APIServerCPUProfile) })
		p.start(func() error { return saveSelfProfile(ctx, time.Duration(secs)*time.Second, res.SelfCPUProfile) })
	}
	if e.profileReplicas {
		for _, rep := range e.replicas {
			path := filepath.Join(e.dir, "cpu-"+rep.id+".pprof")
			res.ReplicaCPUProfiles = append(res.ReplicaCPUProfiles, path)
			p.start(func() error { return rep.saveProfile(ctx, query, path) })
		}
	}
	return p
}

// measureConvergence fills res with the timing, reconciles, writes and
// per-replica usage of a convergence that started at start, whose
// FlinkDeployments were created and matched the goal at the given times.
// It waits for the CPU profiles, if any started.
func measureConvergence(ctx context.Context, e *env, res *Convergence, before baseline, cpuProfile *profiles, start time.Time, matched, created map[string]time.Time) error {
	end, toRunning := spread(matched, created)
	res.convergedAt, res.createdAt = end, created
	d := end.Sub(start)
	res.Seconds = seconds(d)
	res.P50ToRunningSec, res.P99ToRunningSec = seconds(percentile(toRunning, 50)), seconds(percentile(toRunning, 99))
	res.ConvergedPerSec = ratio(float64(res.FlinkDeployments), d.Seconds())
	ivs, err := e.intervals()
	if err != nil {
		return err
	}
	_, toFirst := spread(firstReconciled(ivs, created), created)
	res.P50ToFirstReconcileSec, res.P99ToFirstReconcileSec = seconds(percentile(toFirst, 50)), seconds(percentile(toFirst, 99))
	// Reconciles that ended during convergence.
	var perReplica map[string]int
	res.Reconciles, perReplica = countReconciles(ivs, func(iv reconcileaudit.Interval) bool { return !iv.End.Before(start) && !iv.End.After(end) })
	res.ReconcilesPerSec = ratio(float64(res.Reconciles), d.Seconds())
	writes, err := e.writeCounts(ctx)
	if err != nil {
		return err
	}
	res.MemberWrites, res.HubWrites = writes.since(before.writes)
	res.MemberRequests = writes.memberRequestsSince(before.writes)
	res.HubAPIServerRequests = countsSince(writes.hubServed, before.writes.hubServed)
	res.ProbesPerMemberInterval, res.StatusWritesPerMemberInterval = writes.perMemberInterval(before.writes, len(e.fleet.Members), e.cfg.probeInterval)
	if err := cpuProfile.wait(); err != nil {
		return err
	}
	return measureReplicas(ctx, e, res, before, perReplica, d)
}

// measureReplicas adds every live replica's usage over a convergence of
// length d to res, and the largest heap growth per FlinkDeployment.
func measureReplicas(ctx context.Context, e *env, res *Convergence, before baseline, perReplica map[string]int, d time.Duration) error {
	for i, rep := range e.live() {
		u := Usage{Replica: rep.id, HeapBeforeBytes: res.heapBeforeByIndex[i], ReconcilesPerSec: ratio(float64(perReplica[rep.id]), d.Seconds())}
		u.CPUSeconds = seconds(time.Duration((before.cpuAfter[rep.id] - before.cpu[rep.id]) * float64(time.Second)))
		var err error
		if u.PeakRSSBytes, err = peakRSSBytes(rep.proc.Pid()); err != nil {
			return err
		}
		if u.CPUsAllowed, err = cpusAllowed(rep.proc.Pid()); err != nil {
			return err
		}
		if u.HeapAfterBytes, err = rep.liveHeap(ctx); err != nil {
			return err
		}
		u.HeapPerFDBytes = float64(int((u.HeapAfterBytes - u.HeapBeforeBytes) / float64(res.FlinkDeployments)))
		if u.HeapPerFDBytes > res.HeapPerFDBytes {
			res.HeapPerFDBytes = u.HeapPerFDBytes
		}
		res.PerReplica = append(res.PerReplica, u)
	}
	return nil
}

// countReconciles counts the finished reconciles that in accepts, in all
// and by replica.
func countReconciles(ivs []reconcileaudit.Interval, in func(reconcileaudit.Interval) bool) (int, map[string]int) {
	n, perReplica := 0, map[string]int{}
	for _, iv := range ivs {
		if !iv.Open && in(iv) {
			n++
			perReplica[iv.Replica]++
		}
	}
	return n, perReplica
}

// Failover is how long the shards of a stopped replica stay unowned and
// their FlinkDeployments unreconciled.
type Failover struct {
	Signal           string  `json:"signal"`
	Replica          string  `json:"replica"`
	Shards           int     `json:"shards"`
	FlinkDeployments int     `json:"flinkDeployments"`
	OwnedAgainSec    float64 `json:"ownedAgainSeconds"`
	ReconciledSec    float64 `json:"reconciledAgainSeconds"`
	// AfterReleaseSec (graceful handoffs) is the longest a moved key
	// waited from its shard's release by the stopped replica to the end
	// of its first reconcile by the new owner. With the successor
	// handshake the stopped replica works its shards until their new
	// owners are ready, so this, not ReconciledSec, is how long a key had
	// no working owner.
	AfterReleaseSec   float64 `json:"afterReleaseSeconds,omitempty"`
	LeaseDurationSecs float64 `json:"leaseDurationSeconds"`
	// Members are the member clusters that moved with the shards (with a
	// member spread: those whose home shard was lost); 0 without one.
	Members int `json:"members,omitempty"`
	// Takeover is what the survivors' reconciles took meanwhile.
	Takeover *TakeoverCost `json:"takeover,omitempty"`
	// CPUProfiles of a graceful handoff: a survivor's, the first member
	// apiserver's and the bench's, over handoffProfileSecs from the
	// signal.
	CPUProfiles []string `json:"cpuProfiles,omitempty"`
}

// handoffProfileSecs is the length of the CPU profiles of a graceful
// handoff.
const handoffProfileSecs = 3

// auditPoll is how often a wait that parses the whole reconcile audit
// looks again.
const auditPoll = 500 * time.Millisecond

// profileHandoff takes, unless CPU profiles are off, CPU profiles of a
// replica other than victim, of the first member apiserver and of the
// bench (the simulator) while the
// shards of victim move, recording their paths in res; the channel is
// closed when both are written (or failed: a profile is an aid, not a
// figure).
func (e *env) profileHandoff(ctx context.Context, victim *replica, res *Failover) <-chan struct{} {
	done := make(chan struct{})
	var survivor *replica
	for _, r := range e.live() {
		if r != victim {
			survivor = r
			break
		}
	}
	if e.cfg.cpuProfile <= 0 || survivor == nil {
		close(done)
		return done
	}
	hub := filepath.Join(e.dir, "cpu-handoff-"+survivor.id+".pprof")
	member := filepath.Join(e.dir, "cpu-handoff-kube-apiserver-member-1.pprof")
	self := filepath.Join(e.dir, "cpu-handoff-bench.pprof")
	res.CPUProfiles = []string{hub, member, self}
	var wg sync.WaitGroup
	wg.Go(func() { _ = survivor.saveProfile(ctx, fmt.Sprintf("profile?seconds=%d", handoffProfileSecs), hub) })
	wg.Go(func() { _ = e.saveAPIServerProfile(ctx, handoffProfileSecs, member) })
	wg.Go(func() { _ = saveSelfProfile(ctx, handoffProfileSecs*time.Second, self) })
	go func() { wg.Wait(); close(done) }()
	return done
}

// failover stops one replica of a converged, settled fleet with sig
// ("SIGKILL" or "SIGTERM") and measures until its shards are held by others and every
// FlinkDeployment of them finished a reconcile started after the signal.
func failover(ctx context.Context, e *env, tr *tracker, sig string) (*Failover, error) {
	if err := e.waitShardsHeld(ctx, 2*time.Minute); err != nil {
		return nil, err
	}
	// A move still being worked off (the last join's) would slow this
	// one's reconciles and count against it.
	if err := e.settle(ctx, tr, 2*time.Minute); err != nil {
		return nil, err
	}
	held, err := e.holders(ctx)
	if err != nil {
		return nil, err
	}
	victim := e.live()[0]
	lost, keys := e.heldBy(tr, held, victim.id)
	res := &Failover{Signal: sig, Replica: victim.id, Shards: len(lost), FlinkDeployments: len(keys), LeaseDurationSecs: e.cfg.leaseDuration.Seconds()}
	if e.spread > 0 {
		for _, m := range e.memberNames() {
			if lost[sharding.HomeShard(m, sharding.DefaultShards)] {
				res.Members++
			}
		}
	}
	var rel *releases
	if sig == "SIGTERM" {
		if rel, err = watchReleases(ctx, e.fleet.Hub.Config, hubNamespace, victim.id, lost); err != nil {
			return nil, err
		}
		defer rel.close()
	}
	survivors := e.survivorsOf(victim)
	before, err := totalsOf(ctx, survivors)
	if err != nil {
		return nil, err
	}
	at := time.Now()
	if sig == "SIGKILL" {
		victim.proc.Kill()
		e.deaths[victim.id] = at
	} else {
		if err := victim.proc.Signal(syscall.SIGTERM); err != nil {
			return nil, err
		}
		profiled := e.profileHandoff(ctx, victim, res)
		defer func() { <-profiled }()
	}
	if err := e.waitOwnedElsewhere(ctx, lost, victim.id); err != nil {
		return nil, err
	}
	res.OwnedAgainSec = seconds(time.Since(at))
	first, last, err := e.reconciledAgain(ctx, keys, victim.id, at)
	if err != nil {
		return nil, err
	}
	res.ReconciledSec = seconds(last.Sub(at))
	after, err := totalsOf(ctx, survivors)
	if err != nil {
		return nil, err
	}
	res.Takeover = after.since(before)
	if rel != nil {
		res.AfterReleaseSec = seconds(e.longestAfterRelease(first, rel.close(), at))
	}
	if sig == "SIGTERM" {
		if err := victim.proc.Stop(time.Minute); err != nil {
			return nil, fmt.Errorf("%s after SIGTERM: %w", victim.id, err)
		}
	}
	return res, nil
}

// waitOwnedElsewhere waits until every shard of lost is held by a replica
// other than victim.
func (e *env) waitOwnedElsewhere(ctx context.Context, lost map[int]bool, victim string) error {
	err := framework.Eventually(ctx, 3*e.cfg.leaseDuration+time.Minute, func(ctx context.Context) (bool, error) {
		h, err := e.holders(ctx)
		if err != nil {
			return false, err
		}
		for s := range lost {
			if h[s] == "" || h[s] == victim {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("shards of %s not owned again: %w", victim, err)
	}
	return nil
}

// heldBy are the shards held by replica (of held) and the tracked keys
// in them.
func (e *env) heldBy(tr *tracker, held map[int]string, replica string) (map[int]bool, map[string]bool) {
	lost := map[int]bool{}
	for s, h := range held {
		if h == replica {
			lost[s] = true
		}
	}
	keys := map[string]bool{}
	for k := range tr.keys() {
		if lost[e.shardOf(k)] {
			keys[k] = true
		}
	}
	return lost, keys
}

// shardOf is the shard of a FlinkDeployment's key in the replicas'
// election: with a member spread, one of its member's shards.
func (e *env) shardOf(key string) int {
	if e.spread > 0 {
		return sharding.MemberShardOf(key, sharding.DefaultShards, e.spread)
	}
	return sharding.ShardOf(key, sharding.DefaultShards)
}

// reconciledAgain waits until every key of keys finished a reconcile
// begun after at by a replica other than victim, and returns when the
// last of them ended. The time is read from the audit (each reconcile's
// end), not from the poll: polling less often loses no precision, and
// parsing the whole audit every 50 ms took CPU from the replicas being
// measured.
func (e *env) reconciledAgain(ctx context.Context, keys map[string]bool, victim string, at time.Time) (map[string]time.Time, time.Time, error) {
	var last time.Time
	var first map[string]time.Time
	err := framework.EventuallyEvery(ctx, 3*e.cfg.leaseDuration+time.Minute, auditPoll, func(ctx context.Context) (bool, error) {
		ivs, err := e.intervals()
		if err != nil {
			return false, err
		}
		done := map[string]time.Time{}
		for _, iv := range ivs {
			if keys[iv.Key] && iv.Replica != victim && !iv.Open && iv.Start.After(at) {
				if t, ok := done[iv.Key]; !ok || iv.End.Before(t) {
					done[iv.Key] = iv.End
				}
			}
		}
		if len(done) < len(keys) {
			return false, nil
		}
		last, first = at, done
		for _, t := range done {
			if t.After(last) {
				last = t
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("FlinkDeployments of %s not reconciled again: %w", victim, err)
	}
	return first, last, nil
}

// longestAfterRelease is the longest a key waited between its shard's
// release (released; the signal at when the release was not seen) and the
// end of its first reconcile by another replica (first).
func (e *env) longestAfterRelease(first map[string]time.Time, released map[int]time.Time, at time.Time) time.Duration {
	var longest time.Duration
	for k, end := range first {
		from, ok := released[e.shardOf(k)]
		if !ok {
			from = at
		}
		longest = max(longest, end.Sub(from))
	}
	return longest
}

// Upgrade is a rolling parallelism change of the whole fleet.
type Upgrade struct {
	Replicas         int     `json:"replicas"`
	FlinkDeployments int     `json:"flinkDeployments"`
	Seconds          float64 `json:"seconds"`
	P50Sec           float64 `json:"p50Seconds"`
	P99Sec           float64 `json:"p99Seconds"`
}

// upgrade sets parallelism 4 on every FlinkDeployment (last-state) and
// waits until all run restored with it and are STABLE.
func upgrade(ctx context.Context, e *env, tr *tracker, n int) (*Upgrade, error) {
	tr.expect(func(fd *v1beta1.FlinkDeployment) bool {
		if !stable(fd) {
			return false
		}
		var last struct{ Spec v1beta1.FlinkDeploymentSpec }
		_ = json.Unmarshal([]byte(fd.Status.ReconciliationStatus.LastReconciledSpec), &last)
		return last.Spec.Job != nil && last.Spec.Job.Parallelism == 4
	})
	start := time.Now()
	patched := make(map[string]time.Time, n)
	names := e.memberNames()
	err := forEach(ctx, n, len(e.members), 8, func(ctx context.Context, i int) error {
		m, name := placement(i, len(e.members))
		fd := &v1beta1.FlinkDeployment{}
		fd.Namespace, fd.Name = fdNamespace, name
		if err := e.members[m].Patch(ctx, fd, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"job":{"parallelism":4}}}`))); err != nil {
			return err
		}
		tr.mu.Lock()
		patched[names[m]+"/"+fdNamespace+"/"+name] = time.Now()
		tr.mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	matched, err := tr.wait(ctx, n, e.cfg.timeout)
	if err != nil {
		return nil, err
	}
	end, took := spread(matched, patched)
	return &Upgrade{Replicas: len(e.live()), FlinkDeployments: n, Seconds: seconds(end.Sub(start)),
		P50Sec: seconds(percentile(took, 50)), P99Sec: seconds(percentile(took, 99))}, nil
}

// firstReconciled is when the first reconcile of each key of keys ended.
func firstReconciled(ivs []reconcileaudit.Interval, keys map[string]time.Time) map[string]time.Time {
	first := map[string]time.Time{}
	for _, iv := range ivs {
		if _, ok := keys[iv.Key]; !ok || iv.Open {
			continue
		}
		if at, seen := first[iv.Key]; !seen || iv.End.Before(at) {
			first[iv.Key] = iv.End
		}
	}
	return first
}

// spread returns the latest time a goal was reached and, per key, how long
// after its start it was reached.
func spread(reached, started map[string]time.Time) (time.Time, []time.Duration) {
	var end time.Time
	var took []time.Duration
	for k, at := range reached {
		if at.After(end) {
			end = at
		}
		took = append(took, at.Sub(started[k]))
	}
	return end, took
}

// Throughput is how many reconciles per second the replicas finish when
// every FlinkDeployment asks for one more often than they can serve.
type Throughput struct {
	Replicas             int     `json:"replicas"`
	FlinkDeployments     int     `json:"flinkDeployments"`
	RESTLatencyMs        int     `json:"restLatencyMs"`
	ReconcileIntervalSec float64 `json:"reconcileIntervalSeconds"`
	WindowSec            float64 `json:"windowSeconds"`
	Reconciles           int     `json:"reconciles"`
	ReconcilesPerSec     float64 `json:"reconcilesPerSecond"`
	PerReplica           []Usage `json:"perReplica"`
	// CPUProfile is a CPU profile of the first replica over the window.
	CPUProfile string `json:"cpuProfile,omitempty"`
}

// throughput counts the reconciles of a converged fleet that start and end
// within the next window.
func throughput(ctx context.Context, e *env, n int, window time.Duration) (*Throughput, error) {
	live := e.live()
	cpu0 := map[string]float64{}
	for _, rep := range live {
		c, err := framework.CPUSeconds(rep.proc.Pid())
		if err != nil {
			return nil, err
		}
		cpu0[rep.id] = c
	}
	res := &Throughput{Replicas: len(live), FlinkDeployments: n, RESTLatencyMs: int(e.latency.Milliseconds()),
		ReconcileIntervalSec: e.reconcileInterval.Seconds()}
	profiled := make(chan error, 1)
	if secs := int(window.Seconds()); secs > 0 && e.cfg.cpuProfile > 0 {
		res.CPUProfile = filepath.Join(e.dir, "cpu-hub-0-throughput.pprof")
		go func() { profiled <- live[0].saveProfile(ctx, fmt.Sprintf("profile?seconds=%d", secs), res.CPUProfile) }()
	} else {
		profiled <- nil
	}
	start := time.Now()
	select {
	case <-time.After(window):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	end := time.Now()
	res.WindowSec = seconds(end.Sub(start))
	if err := <-profiled; err != nil {
		return nil, fmt.Errorf("CPU profile: %w", err)
	}
	ivs, err := e.intervals()
	if err != nil {
		return nil, err
	}
	// Reconciles that started and ended within the window.
	var perReplica map[string]int
	res.Reconciles, perReplica = countReconciles(ivs, func(iv reconcileaudit.Interval) bool { return !iv.Start.Before(start) && !iv.End.After(end) })
	res.ReconcilesPerSec = ratio(float64(res.Reconciles), end.Sub(start).Seconds())
	for _, rep := range live {
		c, err := framework.CPUSeconds(rep.proc.Pid())
		if err != nil {
			return nil, err
		}
		res.PerReplica = append(res.PerReplica, Usage{Replica: rep.id, CPUSeconds: seconds(time.Duration((c - cpu0[rep.id]) * float64(time.Second))),
			ReconcilesPerSec: ratio(float64(perReplica[rep.id]), end.Sub(start).Seconds())})
	}
	return res, nil
}
