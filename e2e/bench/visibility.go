package main

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"github.com/flink-hub/flink-hub/e2e/framework"
)

// fleetPoll is how often the visibility scenario asks every replica's
// fleet API: the resolution of its figures.
const fleetPoll = 100 * time.Millisecond

// Visibility is how long changes of FlinkDeployments on the members took
// to show in the fleet API (what `kubectl flinkhub get deployments` reads)
// of every live replica. Two changes per FlinkDeployment: its creation
// (from the create call's return until the replica lists its row) and its
// convergence (from the bench's own watch of the member seeing it STABLE
// and RUNNING until the replica's row says so).
type Visibility struct {
	Scenario         string `json:"scenario"`
	Replicas         int    `json:"replicas"`
	FlinkDeployments int    `json:"flinkDeployments"`
	// Observations are the (change, replica) pairs measured.
	Observations int     `json:"observations"`
	P50Sec       float64 `json:"p50Seconds"`
	MaxSec       float64 `json:"maxSeconds"`
	// Slowest names the slowest observation.
	Slowest string `json:"slowest"`
	// Incomplete counts the answers that named a replica whose rows were
	// missing (it did not answer its peer in time).
	Incomplete int `json:"incomplete"`
	// FirstAnswerSec is the longest a replica's first answer took (the
	// replica and its peers reviewed the new token with the hub
	// apiserver); SlowestAnswerSec the longest of the later answers. Each
	// figure is the time a request was sent, so a sample is at most the
	// answer before it, or the 100 ms between requests, late.
	FirstAnswerSec   float64 `json:"firstAnswerSeconds"`
	SlowestAnswerSec float64 `json:"slowestAnswerSeconds"`
}

// visibility creates k FlinkDeployments in visibilityNamespace, spread
// over the members, and measures how long each one's creation and
// convergence took to show in the fleet API of every live replica, asked
// as the plugin asks (a fleet reader's token, whole-fleet answers that
// include the peers' rows). Every replica is asked from before the first
// creation on, as a user who follows the fleet would: each one's first
// answer (a token new to it and its peers) is reported apart.
func visibility(ctx context.Context, e *env, scenario string, k int) (*Visibility, error) {
	token, err := e.fleet.Hub.ServiceAccountToken(ctx, hubNamespace, "bench-fleet-reader", framework.FleetReaderRules)
	if err != nil {
		return nil, err
	}
	tctx, stop := context.WithCancel(ctx)
	defer stop()
	watched, err := startTrackerIn(tctx, e.fleet.Members, visibilityNamespace)
	if err != nil {
		return nil, err
	}
	watched.expect(stable)
	keys := make(map[string]bool, k)
	for i := range k {
		keys[fleetKey(e.memberNames(), visibilityNamespace, i)] = true
	}
	type polled struct {
		seen *sightings
		err  error
	}
	done := make(chan polled, 1)
	go func() {
		seen, err := e.pollFleetAPI(tctx, token, keys, e.cfg.timeout)
		done <- polled{seen, err}
	}()
	created, err := createFleet(ctx, e.members, e.memberNames(), visibilityNamespace, k)
	if err != nil {
		return nil, err
	}
	p := <-done
	if p.err != nil {
		return nil, p.err
	}
	converged, err := watched.wait(ctx, k, e.cfg.timeout)
	if err != nil {
		return nil, err
	}
	seen := p.seen
	v := &Visibility{Scenario: scenario, Replicas: len(seen.listed), FlinkDeployments: k, Incomplete: seen.incomplete,
		FirstAnswerSec: seconds(seen.firstAnswer), SlowestAnswerSec: seconds(seen.slowestAnswer)}
	v.summarize(seen.delays(created, converged))
	return v, nil
}

// delay is one (change, replica) observation.
type delay struct {
	what string
	d    time.Duration
}

// summarize sets the observations, p50, max and slowest of ds.
func (v *Visibility) summarize(ds []delay) {
	sort.Slice(ds, func(i, j int) bool { return ds[i].d < ds[j].d })
	all := make([]time.Duration, len(ds))
	for i, d := range ds {
		all[i] = d.d
	}
	v.Observations = len(ds)
	if len(ds) == 0 {
		return
	}
	v.P50Sec = seconds(percentile(all, 50))
	v.MaxSec = seconds(all[len(all)-1])
	v.Slowest = ds[len(ds)-1].what
}

// sightings are when each replica's fleet API first listed each key
// (listed) and first listed it STABLE and RUNNING (running), by replica
// then key: the time the request that showed it was sent, so that a
// figure reads "a command started this long after the change shows it".
type sightings struct {
	listed, running map[string]map[string]time.Time
	// incomplete counts the answers that named a missing replica;
	// firstAnswer is the longest a replica's first answer took,
	// slowestAnswer the longest of the later ones.
	incomplete                 int
	firstAnswer, slowestAnswer time.Duration
	answers                    int
}

// delays are the observations of s: from the key's creation until each
// replica listed it, and from the member's watch seeing it converged
// until each replica listed it so. A replica that answered before the
// reference (its informer was faster than the bench's watch or the
// create call's return) counts 0.
func (s *sightings) delays(created, converged map[string]time.Time) []delay {
	var out []delay
	add := func(what string, from, to time.Time) {
		out = append(out, delay{what: what, d: max(0, to.Sub(from))})
	}
	for rep, keys := range s.listed {
		for key, at := range keys {
			add(rep+": "+key+" created", created[key], at)
		}
	}
	for rep, keys := range s.running {
		for key, at := range keys {
			add(rep+": "+key+" STABLE", converged[key], at)
		}
	}
	return out
}

// pollFleetAPI asks every live replica's fleet API for visibilityNamespace,
// each replica every fleetPoll on its own (so one slow answer does not
// delay the others' samples), until each has listed every key of keys and
// then listed it STABLE and RUNNING, or timeout passes (an error naming
// what a replica did not show).
func (e *env) pollFleetAPI(ctx context.Context, token string, keys map[string]bool, timeout time.Duration) (*sightings, error) {
	reps := e.live()
	all := &sightings{listed: map[string]map[string]time.Time{}, running: map[string]map[string]time.Time{}}
	each := make([]*sightings, len(reps))
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	for i, r := range reps {
		s := &sightings{listed: map[string]map[string]time.Time{r.id: {}}, running: map[string]map[string]time.Time{r.id: {}}}
		each[i] = s
		g.Go(func() error { return s.follow(gctx, r, token, keys) })
	}
	err := g.Wait()
	for _, s := range each {
		maps.Copy(all.listed, s.listed)
		maps.Copy(all.running, s.running)
		all.incomplete += s.incomplete
		all.firstAnswer = max(all.firstAnswer, s.firstAnswer)
		all.slowestAnswer = max(all.slowestAnswer, s.slowestAnswer)
	}
	if err != nil {
		if missing := all.missing(keys); len(missing) > 0 {
			return nil, fmt.Errorf("the fleet API did not show every change within %s: %s: %w", timeout, strings.Join(missing, "; "), err)
		}
		return nil, err
	}
	return all, nil
}

// follow asks r's fleet API every fleetPoll until it has shown every
// change of keys.
func (s *sightings) follow(ctx context.Context, r *replica, token string, keys map[string]bool) error {
	tick := time.NewTicker(fleetPoll)
	defer tick.Stop()
	for {
		if err := s.ask(ctx, r, token, keys); err != nil {
			return err
		}
		if len(s.missing(keys)) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// ask lists visibilityNamespace from r's fleet API and records what it
// shows of keys, at the time the request was sent.
func (s *sightings) ask(ctx context.Context, r *replica, token string, keys map[string]bool) error {
	var list fleetv1.DeploymentList
	sent := time.Now()
	if err := framework.FleetGet(ctx, r.fleet, token, fleetv1.DeploymentsPath+"?namespace="+visibilityNamespace, &list); err != nil {
		return fmt.Errorf("fleet API of %s: %w", r.id, err)
	}
	if took := time.Since(sent); s.answers == 0 {
		s.firstAnswer = took
	} else {
		s.slowestAnswer = max(s.slowestAnswer, took)
	}
	s.answers++
	if len(list.Incomplete) > 0 {
		s.incomplete++
	}
	for _, d := range list.Items {
		key := d.Cluster + "/" + d.Namespace + "/" + d.Name
		if !keys[key] {
			continue
		}
		first(s.listed[r.id], key, sent)
		if d.LifecycleState == "STABLE" && d.JobState == "RUNNING" {
			first(s.running[r.id], key, sent)
		}
	}
	return nil
}

// first records at for key unless a time is recorded already.
func first(m map[string]time.Time, key string, at time.Time) {
	if _, ok := m[key]; !ok {
		m[key] = at
	}
}

// missing describes, per replica, the keys it has not listed yet or not
// yet listed converged; empty when every replica showed every change.
func (s *sightings) missing(keys map[string]bool) []string {
	var out []string
	for rep := range s.listed {
		var notListed, notRunning int
		for key := range keys {
			if _, ok := s.listed[rep][key]; !ok {
				notListed++
			}
			if _, ok := s.running[rep][key]; !ok {
				notRunning++
			}
		}
		if notListed+notRunning > 0 {
			out = append(out, fmt.Sprintf("%s: %d of %d not listed, %d not listed STABLE and RUNNING", rep, notListed, len(keys), notRunning))
		}
	}
	sort.Strings(out)
	return out
}
