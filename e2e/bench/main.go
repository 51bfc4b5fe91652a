// Command bench is the fleet benchmark behind `make bench`: on this
// machine's real kube-apiservers and the Flink simulator it measures the
// apiserver floor, the hub's convergence with 1 and 3 replicas, failover
// after SIGKILL and SIGTERM, a rolling last-state upgrade, throughput with
// simulated Flink REST latency, and audits that no two replicas ever
// reconciled one FlinkDeployment at once. It prints Markdown tables, writes
// them and a JSON file with every figure, and exits non-zero when a
// scenario fails or any reconciles overlapped.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/observability/reconcileaudit"
)

// config is what the flags set.
type config struct {
	members, fds, latencyFDs  int
	scale                     float64
	latency                   time.Duration
	memberQPS                 float64
	memberBurst, workers      int
	leaseDuration             time.Duration
	renewDeadline             time.Duration
	retryPeriod               time.Duration
	progressInterval          time.Duration
	reconcileInterval         time.Duration
	checkpointInterval        time.Duration
	latencyReconcileInterval  time.Duration
	warmUpPerMember           int
	throughputWindow          time.Duration
	timeout                   time.Duration
	out, jsonPath, mdPath     string
	renderPath                string
	hubBin                    string
	skipFailover, skipLatency bool
	skipConvergence           bool
	cpuProfile                time.Duration
	// The many-members scenario: members, FlinkDeployments per member
	// (times scale), the replicas' --member-spread.
	spreadMembers, spreadPerMember, memberSpread int
	skipSpread                                   bool
	// visibilityFDs are the FlinkDeployments the fleet visibility
	// scenario creates after the many-members convergences of 3 and 4
	// replicas.
	visibilityFDs int
	// steadyWindow is how long the many-members scenario measures each
	// converged fleet's steady state (0: not measured).
	steadyWindow time.Duration
	// probeInterval is the replicas' --health-probe-interval.
	probeInterval time.Duration
	// hubCPUs is the -hub-cpus flag; split what it chose (nil: no
	// scenarios with the hub on CPUs apart).
	hubCPUs string
	split   *cpuSplit
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.IntVar(&c.members, "members", 3, "member clusters")
	fs.IntVar(&c.fds, "fds", 1000, "FlinkDeployments in total for the floor, convergence, failover and upgrade (times -scale)")
	fs.IntVar(&c.warmUpPerMember, "warm-up-per-member", 10, "FlinkDeployments per member (in another namespace) that converge before each convergence's heap baseline, so one-time allocations are not counted per FlinkDeployment")
	fs.IntVar(&c.latencyFDs, "latency-fds", 500, "FlinkDeployments of the Flink REST latency scenario (times -scale)")
	fs.DurationVar(&c.latencyReconcileInterval, "latency-reconcile-interval", 250*time.Millisecond, "hub --reconcile-interval in the latency scenario: every FlinkDeployment asks for a reconcile this often, more often than the replicas can serve")
	fs.DurationVar(&c.throughputWindow, "throughput-window", 20*time.Second, "how long steady-state reconciles are counted in the latency scenario")
	fs.Float64Var(&c.scale, "scale", 1, "multiplies -fds and -latency-fds, e.g. 0.1 for a quick run or 5 for a bigger one")
	fs.DurationVar(&c.latency, "rest-latency", 20*time.Millisecond, "simulated latency of every Flink REST call in the latency scenario")
	fs.Float64Var(&c.memberQPS, "member-qps", 200, "client QPS per member, for the hub and the floor's plain client alike (the hub's default)")
	fs.IntVar(&c.memberBurst, "member-burst", 400, "client burst per member (the hub's default)")
	fs.IntVar(&c.workers, "max-concurrent-reconciles", 8, "reconcile workers per replica (the hub's default)")
	fs.DurationVar(&c.leaseDuration, "lease-duration", 10*time.Second, "shard lease duration (the hub's default)")
	fs.DurationVar(&c.renewDeadline, "renew-deadline", 7*time.Second, "shard renew deadline (the hub's default)")
	fs.DurationVar(&c.retryPeriod, "retry-period", 2*time.Second, "shard lease retry period (the hub's default)")
	fs.DurationVar(&c.progressInterval, "progress-check-interval", time.Second, "hub --progress-check-interval")
	fs.DurationVar(&c.checkpointInterval, "checkpoint-interval", 20*time.Second, "checkpoint interval of every simulated Flink job (each checkpoint is a write to the job's HA ConfigMap)")
	fs.DurationVar(&c.reconcileInterval, "reconcile-interval", 60*time.Second, "hub --reconcile-interval (the hub's default)")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Minute, "longest wait for one fleet-wide goal")
	fs.StringVar(&c.out, "out", filepath.Join(os.TempDir(), "flink-hub-bench"), "folder for replica logs, audit files and pprof profiles")
	fs.StringVar(&c.jsonPath, "json", "", "write every figure as JSON to this file")
	fs.StringVar(&c.mdPath, "md", "", "write the Markdown tables to this file")
	fs.StringVar(&c.renderPath, "render", "", "run nothing: render the tables of an earlier run's -json file (to stdout and -md)")
	fs.BoolVar(&c.skipFailover, "skip-failover", false, "skip the failover and upgrade scenarios")
	fs.DurationVar(&c.cpuProfile, "cpu-profile", 20*time.Second, "length of the CPU profile of hub-0 taken at the start of each convergence (0: none)")
	fs.BoolVar(&c.skipConvergence, "skip-convergence", false, "skip the floor, convergence, failover and upgrade scenarios (run only the latency one)")
	fs.BoolVar(&c.skipLatency, "skip-latency", false, "skip the Flink REST latency scenario")
	fs.IntVar(&c.spreadMembers, "spread-members", 12, "member clusters of the many-members scenario")
	fs.IntVar(&c.spreadPerMember, "spread-fds-per-member", 80, "FlinkDeployments per member in the many-members scenario (times -scale)")
	fs.IntVar(&c.memberSpread, "member-spread", 1, "the replicas' --member-spread in the many-members scenario")
	fs.DurationVar(&c.probeInterval, "health-probe-interval", 2*time.Second, "the replicas' --health-probe-interval (10s by default): shorter, so that the probes and MemberCluster status writes per member per interval are counted over more intervals")
	fs.IntVar(&c.visibilityFDs, "visibility-fds", 12, "FlinkDeployments created after the many-members convergences of 3 and 4 replicas, whose creation and convergence are followed through every replica's fleet API")
	fs.DurationVar(&c.steadyWindow, "steady-window", 30*time.Second, "how long the many-members scenario measures each converged fleet's steady state, with a CPU profile of every replica (0: not measured)")
	fs.BoolVar(&c.skipSpread, "skip-spread", false, "skip the many-members scenario")
	fs.StringVar(&c.hubCPUs, "hub-cpus", "none", "CPUs (a list: 1 or 2,3 or 4-7) on which the simulated floor and the convergences run again with the hub replicas alone, the member control planes and the simulator on the others; auto: the upper half, on a machine of 2 or more; none: not run")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var err error
	if c.split, err = cpuSplitOf(c.hubCPUs); err != nil {
		return c, fmt.Errorf("-hub-cpus: %w", err)
	}
	c.fds = int(float64(c.fds)*c.scale + 0.5)
	c.latencyFDs = int(float64(c.latencyFDs)*c.scale + 0.5)
	if c.members < 1 || c.fds < 1 || c.latencyFDs < 1 {
		return c, errors.New("-members, -fds and -latency-fds (times -scale) must be at least 1")
	}
	return c, nil
}

func main() {
	ctrllog.SetLogger(logr.Discard())
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if cfg.renderPath != "" {
		os.Exit(render(cfg, os.Stdout, os.Stderr))
	}
	os.Exit(run(context.Background(), cfg, os.Stdout, os.Stderr))
}

// render writes the tables of the run recorded in cfg.renderPath, as the
// run wrote them, with today's report code; the exit code.
func render(cfg config, stdout, stderr io.Writer) int {
	b, err := os.ReadFile(cfg.renderPath)
	res := &Results{}
	if err == nil {
		err = json.Unmarshal(b, res)
	}
	if err == nil {
		md := res.Markdown()
		fmt.Fprint(stdout, md)
		if cfg.mdPath != "" {
			err = os.WriteFile(cfg.mdPath, []byte(md), 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}

// run runs every scenario, reports and returns the exit code.
func run(ctx context.Context, cfg config, stdout, stderr io.Writer) int {
	res := &Results{Machine: machine(), Command: "go run ./e2e/bench " + strings.Join(os.Args[1:], " "), Started: time.Now().UTC(),
		Members: cfg.members, FlinkDeployments: cfg.fds, LeaseDurationSec: cfg.leaseDuration.Seconds(), MemberQPS: cfg.memberQPS, MemberBurst: cfg.memberBurst,
		ProbeIntervalSec: cfg.probeInterval.Seconds()}
	var err error
	if cfg.hubBin, err = framework.Build("./cmd/flink-hub", "benchaudit"); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	err = scenarios(ctx, cfg, res, stderr)
	if err != nil {
		res.Error = err.Error()
	}
	res.Seconds = seconds(time.Since(res.Started))
	md := res.Markdown()
	fmt.Fprint(stdout, md)
	if werr := writeOutputs(cfg, res, md); werr != nil {
		err = errors.Join(err, werr)
	}
	code := 0
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		code = 1
	}
	if res.Audit.Overlaps > 0 {
		fmt.Fprintf(stderr, "bench: %d overlapping reconciles of one key by two replicas:\n%s\n", res.Audit.Overlaps, strings.Join(res.Audit.Examples, "\n"))
		code = 1
	}
	return code
}

func writeOutputs(cfg config, res *Results, md string) error {
	var errs []error
	if cfg.jsonPath != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err == nil {
			err = os.WriteFile(cfg.jsonPath, append(b, '\n'), 0o644)
		}
		errs = append(errs, err)
	}
	if cfg.mdPath != "" {
		errs = append(errs, os.WriteFile(cfg.mdPath, []byte(md), 0o644))
	}
	return errors.Join(errs...)
}

// scenarios runs every scenario in its own fleet, in order; it stops at
// the first failure, keeping what was measured.
func scenarios(ctx context.Context, cfg config, res *Results, log io.Writer) error {
	step := func(format string, args ...any) {
		fmt.Fprintf(log, "%s bench: %s\n", time.Now().UTC().Format(time.TimeOnly), fmt.Sprintf(format, args...))
	}
	// withEnvOf runs fn on a fresh fleet of cfg, then stops it and audits
	// its log.
	withEnvOf := func(cfg config, name string, latency time.Duration, simulate bool, fn func(*env, *tracker) error) error {
		step("%s: starting %d members and the hub", name, cfg.members)
		e, err := startEnv(ctx, cfg, name, latency, simulate)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		tctx, stopTracker := context.WithCancel(ctx)
		tr, err := startTracker(tctx, e.fleet.Members)
		if err == nil {
			err = fn(e, tr)
		}
		stopTracker()
		e.stop()
		ivs, aerr := e.intervals()
		if aerr == nil {
			res.Audit.add(name, ivs, reconcileaudit.Overlaps(ivs))
		}
		if err = errors.Join(err, aerr); err != nil {
			return fmt.Errorf("%s: %w (logs in %s)", name, err, e.dir)
		}
		return nil
	}

	withEnv := func(name string, latency time.Duration, simulate bool, fn func(*env, *tracker) error) error {
		return withEnvOf(cfg, name, latency, simulate, fn)
	}
	var failed []error
	if !cfg.skipConvergence {
		failed = convergenceScenarios(ctx, cfg, res, step, withEnv)
		if cfg.split != nil {
			failed = append(failed, apartScenarios(ctx, cfg, res, step, withEnv)...)
		}
	}
	if !cfg.skipSpread {
		failed = append(failed, spreadScenarios(ctx, cfg, res, step, withEnvOf)...)
	}
	if cfg.skipLatency {
		return errors.Join(failed...)
	}
	for _, r := range []int{1, 3} {
		if err := withEnv(fmt.Sprintf("latency-r%d", r), cfg.latency, true, func(e *env, tr *tracker) error {
			step("latency: %d replicas, %d FlinkDeployments, %s per Flink REST call", r, cfg.latencyFDs, cfg.latency)
			e.reconcileInterval = cfg.latencyReconcileInterval
			c, err := converge(ctx, e, tr, r, cfg.latencyFDs, false)
			if err != nil {
				return err
			}
			res.Latency = append(res.Latency, c)
			step("latency: counting steady-state reconciles of %d replicas for %s", r, cfg.throughputWindow)
			t, err := throughput(ctx, e, cfg.latencyFDs+c.WarmUp, cfg.throughputWindow)
			if err == nil {
				res.Throughput = append(res.Throughput, t)
			}
			return err
		}); err != nil {
			return errors.Join(append(failed, err)...)
		}
	}
	return errors.Join(failed...)
}

// convergenceScenarios runs the floor, convergence with 1 and 3 replicas,
// failover and the upgrade; a failure after the floor does not stop the
// others. It returns the failures.
func convergenceScenarios(ctx context.Context, cfg config, res *Results, step func(string, ...any), withEnv func(string, time.Duration, bool, func(*env, *tracker) error) error) []error {
	// The floor proper: the plain client alone. Then the same writes with
	// the simulated kubelets and Flink reacting to them, for comparison.
	for _, simulate := range []bool{false, true} {
		name := map[bool]string{false: "floor", true: "floor-simulated"}[simulate]
		if err := withEnv(name, 0, simulate, func(e *env, _ *tracker) error {
			step("%s: a plain client writes the objects of %d FlinkDeployments", name, cfg.fds)
			f, err := floorScenario(ctx, cfg, e, simulate)
			if simulate {
				res.FloorSimulated = f
			} else {
				res.Floor = f
			}
			return err
		}); err != nil {
			return []error{err}
		}
	}
	return convergeEach(withEnv, "converge", func(e *env, tr *tracker, r int) error {
		step("converge: %d replicas, %d FlinkDeployments", r, cfg.fds)
		return convergenceScenario(ctx, cfg, res, step, e, tr, r)
	})
}

// convergeEach runs fn with 1 and then 3 replicas, each on a fresh fleet
// named <prefix>-r<replicas>; a failure does not stop the other. It
// returns the failures.
func convergeEach(withEnv func(string, time.Duration, bool, func(*env, *tracker) error) error, prefix string, fn func(e *env, tr *tracker, r int) error) []error {
	var failed []error
	for _, r := range []int{1, 3} {
		if err := withEnv(fmt.Sprintf("%s-r%d", prefix, r), 0, true, func(e *env, tr *tracker) error { return fn(e, tr, r) }); err != nil {
			failed = append(failed, err)
		}
	}
	return failed
}

// apartScenarios runs the simulated floor and the convergences of 1 and 3
// replicas again with the hub replicas on CPUs of their own
// (cfg.split), into res.Apart: this process (the simulator) pins itself,
// and so the control planes it starts, to the other CPUs, until they are
// done.
func apartScenarios(ctx context.Context, cfg config, res *Results, step func(string, ...any), withEnv func(string, time.Duration, bool, func(*env, *tracker) error) error) []error {
	split := cfg.split
	if err := pinSelf(&split.rest); err != nil {
		return []error{err}
	}
	defer func() {
		if err := pinSelf(&split.all); err != nil {
			step("cannot give this process all its CPUs back: %v", err)
		}
	}()
	a := &Apart{HubCPUs: split.hubList, MemberCPUs: split.restList}
	res.Apart = a
	if err := withEnv("apart-floor-simulated", 0, true, func(e *env, _ *tracker) error {
		step("hub CPUs apart (%s): a plain client writes the objects of %d FlinkDeployments, members on CPUs %s", a.HubCPUs, cfg.fds, a.MemberCPUs)
		f, err := floorScenario(ctx, cfg, e, true)
		a.FloorSimulated = f
		return err
	}); err != nil {
		return []error{err}
	}
	return convergeEach(withEnv, "apart-converge", func(e *env, tr *tracker, r int) error {
		step("hub CPUs apart (%s): converge %d replicas, %d FlinkDeployments", a.HubCPUs, r, cfg.fds)
		e.split = split
		c, err := converge(ctx, e, tr, r, cfg.fds, false)
		if err == nil {
			a.Convergence = append(a.Convergence, c)
		}
		return err
	})
}

// spreadScenarios converge a fleet of many members with 1, 3 and 4
// replicas that serve whole members (--member-spread), into res.Spread.
func spreadScenarios(ctx context.Context, cfg config, res *Results, step func(string, ...any), withEnvOf func(config, string, time.Duration, bool, func(*env, *tracker) error) error) []error {
	c := cfg
	c.members = cfg.spreadMembers
	n := int(float64(cfg.spreadMembers*cfg.spreadPerMember)*cfg.scale + 0.5)
	res.SpreadMembers, res.MemberSpread = c.members, cfg.memberSpread
	var failed []error
	for _, r := range []int{1, 3, 4} {
		if err := withEnvOf(c, fmt.Sprintf("spread-r%d", r), 0, true, func(e *env, tr *tracker) error {
			step("many members: %d replicas, %d members, %d FlinkDeployments, member spread %d", r, c.members, n, cfg.memberSpread)
			e.spread, e.profileReplicas = cfg.memberSpread, true
			conv, err := converge(ctx, e, tr, r, n, false)
			if err != nil {
				return err
			}
			res.Spread = append(res.Spread, conv)
			if cfg.steadyWindow > 0 {
				step("many members: %d replicas, the converged fleet's steady state for %s", r, cfg.steadyWindow)
				if conv.Steady, err = steadyState(ctx, e, cfg.steadyWindow); err != nil {
					return err
				}
			}
			if r == 1 {
				return nil
			}
			step("many members: %d FlinkDeployments more, followed through the fleet API of each of %d replicas", cfg.visibilityFDs, r)
			v, err := visibility(ctx, e, fmt.Sprintf("many members, %d replicas", r), cfg.visibilityFDs)
			if err != nil {
				return err
			}
			res.Visibility = append(res.Visibility, v)
			if r != 3 {
				return nil
			}
			step("many members: SIGTERM one of 3 replicas, its members move whole")
			res.SpreadHandoff, err = failover(ctx, e, tr, "SIGTERM")
			return err
		}); err != nil {
			failed = append(failed, err)
		}
	}
	return failed
}

// floorScenario measures a plain client writing the objects of the
// fleet's FlinkDeployments, with the simulated kubelets and Flink reacting
// when simulate.
func floorScenario(ctx context.Context, cfg config, e *env, simulate bool) (*Floor, error) {
	served0, err := e.memberRequests(ctx)
	if err != nil {
		return nil, err
	}
	cpuBefore, err := readCPU()
	if err != nil {
		return nil, err
	}
	f := &Floor{FlinkDeployments: cfg.fds, Simulated: simulate}
	profiled := profileFloor(ctx, cfg, e, f)
	start := time.Now()
	writes, err := floor(ctx, e.members, cfg.fds)
	d := time.Since(start)
	cpuAfter, cerr := readCPU()
	if cerr != nil {
		return nil, cerr
	}
	f.Writes, f.Seconds, f.WritesPerSec = writes, seconds(d), ratio(float64(writes), d.Seconds())
	f.CPUByProgram, f.BusyCores = cpuAfter.since(cpuBefore)
	if err != nil {
		return f, err
	}
	if simulate {
		// The members' own work goes on after the last write: the
		// requests below count it until every JobManager is up.
		if err := jobManagersAvailable(ctx, e.members, cfg.fds, cfg.timeout); err != nil {
			return f, err
		}
		f.JobManagersSeconds = seconds(time.Since(start))
	}
	if perr := <-profiled; perr != nil {
		return f, fmt.Errorf("CPU profile: %w", perr)
	}
	served, err := e.memberRequests(ctx)
	f.MemberRequests = writeCount{member: served}.memberRequestsSince(writeCount{member: served0})
	f.MemberWrites = writesOf(f.MemberRequests)
	return f, err
}

// profileFloor starts, for the simulated floor and a CPU profile length,
// the CPU profile of the first member's kube-apiserver that each
// convergence takes too. The returned channel gets its error (nil at
// once when there is none to take).
func profileFloor(ctx context.Context, cfg config, e *env, f *Floor) chan error {
	done := make(chan error, 1)
	secs := int(cfg.cpuProfile.Seconds())
	if !f.Simulated || secs <= 0 {
		done <- nil
		return done
	}
	f.APIServerCPUProfile = filepath.Join(e.dir, "cpu-kube-apiserver-member-1-floor.pprof")
	go func() { done <- e.saveAPIServerProfile(ctx, secs, f.APIServerCPUProfile) }()
	return done
}

// convergenceScenario measures the convergence of r replicas into
// res.Convergence; with 3 replicas it goes on with failover and the
// upgrade unless cfg skips failover.
func convergenceScenario(ctx context.Context, cfg config, res *Results, step func(string, ...any), e *env, tr *tracker, r int) error {
	c, err := converge(ctx, e, tr, r, cfg.fds, true)
	if err != nil {
		return err
	}
	c.RatioToFloor = ratio(c.Seconds, res.Floor.Seconds)
	res.Convergence = append(res.Convergence, c)
	if r != 3 || cfg.skipFailover {
		return nil
	}
	return failoverAndUpgrade(ctx, cfg, res, step, e, tr)
}

// failoverAndUpgrade stops a replica of the converged fleet with SIGKILL,
// then another with SIGTERM, starting a new replica after each (a join,
// measured too), and then measures the upgrade of the fleet.
func failoverAndUpgrade(ctx context.Context, cfg config, res *Results, step func(string, ...any), e *env, tr *tracker) error {
	for i, sig := range []string{"SIGKILL", "SIGTERM"} {
		step("failover: %s one of 3 replicas", sig)
		f, err := failover(ctx, e, tr, sig)
		if err != nil {
			return err
		}
		res.Failover = append(res.Failover, f)
		id := fmt.Sprintf("hub-%d", 3+i)
		step("join: %s starts beside the 2 survivors", id)
		j, err := join(ctx, e, tr, id)
		if err != nil {
			return err
		}
		res.Joins = append(res.Joins, j)
	}
	if err := e.waitShardsHeld(ctx, 2*time.Minute); err != nil {
		return err
	}
	step("upgrade: parallelism 2 -> 4 on %d FlinkDeployments (last-state)", cfg.fds)
	var err error
	res.Upgrade, err = upgrade(ctx, e, tr, cfg.fds)
	return err
}
