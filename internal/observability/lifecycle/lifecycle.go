// Package lifecycle times the lifecycle of FlinkDeployments and
// FlinkSessionJobs as the Apache operator's LifecycleMetrics do, under its
// metric names: how long a resource stayed in a state
// (flink_k8soperator_namespace_Lifecycle_State_<STATE>_TimeSeconds) and how
// long upstream's tracked transitions took
// (flink_k8soperator_namespace_Lifecycle_Transition_<Name>_TimeSeconds:
// Resume, Upgrade, Suspend, Submission, Stabilization, Rollback), and the
// same per kind over all namespaces (system scope:
// flink_k8soperator_<Kind>_Lifecycle_...), as
// summaries with the quantiles Flink's Prometheus reporter gives its
// histograms. A replica times the resources it reconciles, from the first
// state it sees of each; a handoff starts the new owner afresh.
package lifecycle

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// states are upstream's lifecycle states; terminal ones end a lifecycle
// (the times of every other state are recorded and cleared on entering
// one).
var states = []struct {
	name     string
	terminal bool
}{
	{"CREATED", false}, {"SUSPENDED", true}, {"UPGRADING", false}, {"DEPLOYED", false}, {"STABLE", true},
	{"ROLLING_BACK", false}, {"ROLLED_BACK", true}, {"FAILED", true}, {"DELETING", false}, {"DELETED", true},
}

// transition is one of upstream's tracked transitions: entering to, the
// time since from was entered (or, fromLastUpdate, last seen).
type transition struct {
	from, to       string
	fromLastUpdate bool
	name           string
}

var transitions = []transition{
	{"SUSPENDED", "STABLE", true, "Resume"},
	{"STABLE", "STABLE", true, "Upgrade"},
	{"DEPLOYED", "UPGRADING", true, "Suspend"},
	{"STABLE", "UPGRADING", true, "Suspend"},
	{"ROLLED_BACK", "UPGRADING", true, "Suspend"},
	{"DEPLOYED", "SUSPENDED", true, "Suspend"},
	{"STABLE", "SUSPENDED", true, "Suspend"},
	{"ROLLED_BACK", "SUSPENDED", true, "Suspend"},
	{"DEPLOYED", "STABLE", false, "Stabilization"},
	{"DEPLOYED", "ROLLED_BACK", false, "Rollback"},
	{"UPGRADING", "DEPLOYED", true, "Submission"},
	{"ROLLING_BACK", "ROLLED_BACK", true, "Submission"},
}

// quantiles are those of Flink's Prometheus reporter for histograms.
var quantiles = map[float64]float64{0.5: 0.05, 0.75: 0.025, 0.95: 0.005, 0.98: 0.002, 0.99: 0.001, 0.999: 0.0001}

// Kinds are the timed resource kinds, whose system-scope summaries are
// named after them.
var Kinds = []string{"FlinkDeployment", "FlinkSessionJob"}

var (
	labels = []string{"cluster", "resourcens", "resourcetype"}
	// stateTimes and transitionTime are the namespace-scope summaries by
	// state or transition name; systemStates and systemTransitions the
	// system-scope ones by kind, then name.
	stateTimes        = map[string]*prometheus.SummaryVec{}
	transitionTime    = map[string]*prometheus.SummaryVec{}
	systemStates      = map[string]map[string]prometheus.Summary{}
	systemTransitions = map[string]map[string]prometheus.Summary{}
)

func init() {
	for _, kind := range Kinds {
		systemStates[kind], systemTransitions[kind] = map[string]prometheus.Summary{}, map[string]prometheus.Summary{}
	}
	for _, st := range states {
		help := "Seconds resources spent in lifecycle state " + st.name
		stateTimes[st.name] = register("namespace_Lifecycle_State_"+st.name, help)
		for _, kind := range Kinds {
			systemStates[kind][st.name] = registerSystem(kind+"_Lifecycle_State_"+st.name, help)
		}
	}
	for _, t := range transitions {
		if _, ok := transitionTime[t.name]; ok {
			continue
		}
		help := "Seconds the lifecycle transition " + t.name + " took"
		transitionTime[t.name] = register("namespace_Lifecycle_Transition_"+t.name, help)
		for _, kind := range Kinds {
			systemTransitions[kind][t.name] = registerSystem(kind+"_Lifecycle_Transition_"+t.name, help)
		}
	}
}

func opts(name, help string) prometheus.SummaryOpts {
	return prometheus.SummaryOpts{Name: "flink_k8soperator_" + name + "_TimeSeconds", Help: help + " (the Apache operator's name).", Objectives: quantiles}
}

// register makes and registers the namespace-scope summary
// flink_k8soperator_<name>_TimeSeconds.
func register(name, help string) *prometheus.SummaryVec {
	v := prometheus.NewSummaryVec(opts(name, help), labels)
	metrics.Registry.MustRegister(v)
	return v
}

// registerSystem makes and registers the system-scope summary
// flink_k8soperator_<name>_TimeSeconds.
func registerSystem(name, help string) prometheus.Summary {
	v := prometheus.NewSummary(opts(name, help))
	metrics.Registry.MustRegister(v)
	return v
}

// Resource names a timed resource.
type Resource struct {
	Kind, Cluster, Namespace, Name string
}

// span is when a state was entered and last seen.
type span struct{ first, last time.Time }

type tracker struct {
	current string
	times   map[string]*span
}

// Recorder times resources; safe for concurrent use, the zero value is
// ready.
type Recorder struct {
	mu       sync.Mutex
	trackers map[Resource]*tracker
}

// maxTracked bounds the trackers: past it, all are dropped and timing
// starts afresh.
const maxTracked = 200_000

// Observe records that res is in state at t.
func (r *Recorder) Observe(res Resource, state string, t time.Time) {
	if state == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.trackers == nil || len(r.trackers) >= maxTracked {
		r.trackers = map[Resource]*tracker{}
	}
	tr, ok := r.trackers[res]
	if !ok {
		r.trackers[res] = &tracker{current: state, times: map[string]*span{state: {t, t}}}
		return
	}
	lv := []string{res.Cluster, res.Namespace, res.Kind}
	if state != tr.current {
		for _, tn := range transitions {
			if tn.to != state {
				continue
			}
			if from, ok := tr.times[tn.from]; ok {
				since := from.first
				if tn.fromLastUpdate {
					since = from.last
				}
				seconds := t.Sub(since).Seconds()
				transitionTime[tn.name].WithLabelValues(lv...).Observe(seconds)
				if sys, ok := systemTransitions[res.Kind]; ok {
					sys[tn.name].Observe(seconds)
				}
			}
		}
	}
	tr.enter(state, t, lv, systemStates[res.Kind])
}

// enter moves the tracker to state at t, recording and clearing the times
// of the states the move ends, as upstream does.
func (tr *tracker) enter(state string, t time.Time, lv []string, system map[string]prometheus.Summary) {
	if s, ok := tr.times[state]; ok {
		if state != tr.current {
			s.first = t
		}
		s.last = t
	} else {
		tr.times[state] = &span{t, t}
	}
	if state == tr.current {
		return
	}
	for _, cleared := range clearedAfter(state, tr.current) {
		if s, ok := tr.times[cleared]; ok {
			seconds := s.last.Sub(s.first).Seconds()
			stateTimes[cleared].WithLabelValues(lv...).Observe(seconds)
			if system != nil {
				system[cleared].Observe(seconds)
			}
			delete(tr.times, cleared)
		}
	}
	tr.current = state
}

// clearedAfter are the states whose times end on entering state from
// from: every other state for a terminal one, every state but UPGRADING
// and from for UPGRADING, none otherwise.
func clearedAfter(state, from string) []string {
	var out []string
	for _, st := range states {
		switch {
		case isTerminal(state) && st.name != state:
			out = append(out, st.name)
		case state == "UPGRADING" && st.name != state && st.name != from:
			out = append(out, st.name)
		}
	}
	return out
}

func isTerminal(state string) bool {
	for _, st := range states {
		if st.name == state {
			return st.terminal
		}
	}
	return false
}

// Forget drops a resource that is gone.
func (r *Recorder) Forget(res Resource) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.trackers, res)
}
