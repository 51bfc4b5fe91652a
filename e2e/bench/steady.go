package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/flink-hub/flink-hub/internal/observability/reconcileaudit"
)

// Steady is what the replicas of a converged fleet use while nothing
// changes: the periodic observation of every FlinkDeployment, and each
// replica's own upkeep (its shard fences, its members' probes and caches).
// Measured after convergence, it shows the cost a replica adds by running
// at all, which a convergence's CPU seconds mix with the work.
type Steady struct {
	Seconds    float64 `json:"seconds"`
	Reconciles int     `json:"reconciles"`
	// PerReplica are each replica's CPU milliseconds a second over the
	// window, by replica.
	PerReplica []SteadyUsage `json:"perReplica"`
	// CPUProfiles are every replica's CPU profile over the window.
	CPUProfiles []string `json:"cpuProfiles,omitempty"`
}

// SteadyUsage is one replica's share of a Steady window.
type SteadyUsage struct {
	Replica        string  `json:"replica"`
	CPUMillisPerS  float64 `json:"cpuMillisPerSecond"`
	ReconcilesPerS float64 `json:"reconcilesPerSecond"`
}

// CPUMillisPerS is the CPU milliseconds a second of all replicas together.
func (s *Steady) CPUMillisPerS() float64 {
	var sum float64
	for _, u := range s.PerReplica {
		sum += u.CPUMillisPerS
	}
	return sum
}

// steadyState measures the live replicas of a converged fleet over window,
// with a CPU profile of each.
func steadyState(ctx context.Context, e *env, window time.Duration) (*Steady, error) {
	st := &Steady{}
	p := &profiles{errs: make(chan error, len(e.replicas))}
	query := fmt.Sprintf("profile?seconds=%d", int(window.Seconds()))
	before, err := replicaCPU(e)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	for _, rep := range e.live() {
		path := filepath.Join(e.dir, "cpu-steady-"+rep.id+".pprof")
		st.CPUProfiles = append(st.CPUProfiles, path)
		p.start(func() error { return rep.saveProfile(ctx, query, path) })
	}
	select {
	case <-time.After(window):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	after, err := replicaCPU(e)
	if err != nil {
		return nil, err
	}
	end := time.Now()
	if err := p.wait(); err != nil {
		return nil, err
	}
	ivs, err := e.intervals()
	if err != nil {
		return nil, err
	}
	n, perReplica := countReconciles(ivs, func(iv reconcileaudit.Interval) bool { return iv.End.After(start) && !iv.End.After(end) })
	d := end.Sub(start).Seconds()
	st.Seconds, st.Reconciles = d, n
	for id, cpu := range after {
		st.PerReplica = append(st.PerReplica, SteadyUsage{Replica: id, CPUMillisPerS: 1000 * (cpu - before[id]) / d, ReconcilesPerS: float64(perReplica[id]) / d})
	}
	sort.Slice(st.PerReplica, func(i, j int) bool { return st.PerReplica[i].Replica < st.PerReplica[j].Replica })
	return st, nil
}
