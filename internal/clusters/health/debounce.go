package health

import (
	"sync"
	"time"
)

// Debouncer turns a stream of probe results per member into a reported
// state that changes Ready only after the opposite result has lasted the
// window, as Karmada's cluster status controller does.
//
// Invariants: the first result for a member is reported at once; a result
// with the same Ready value as the reported one replaces it at once (a new
// reason or version is news, not a flap); a result with the other Ready
// value is reported only once results with that value have been observed
// continuously for at least the window. A new revision (rotated
// credentials) restarts that window, so one failed probe right after a
// rotation does not flap the member either.
type Debouncer struct {
	window time.Duration

	mu     sync.Mutex
	states map[string]*debounceState
}

type debounceState struct {
	revision     string
	reported     Result
	pendingSince time.Time
}

// NewDebouncer returns a Debouncer with the given window.
func NewDebouncer(window time.Duration) *Debouncer {
	return &Debouncer{window: window, states: map[string]*debounceState{}}
}

// Observe records a result for the member at now and returns the state to
// report. revision identifies the member's credentials (a hash): a new
// revision restarts the debounce window.
func (d *Debouncer) Observe(member, revision string, r Result, now time.Time) Result {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.states[member]
	if !ok {
		d.states[member] = &debounceState{revision: revision, reported: r}
		return r
	}
	if s.revision != revision {
		s.revision, s.pendingSince = revision, time.Time{}
	}
	if r.Ready == s.reported.Ready {
		s.reported, s.pendingSince = r, time.Time{}
		return r
	}
	if s.pendingSince.IsZero() {
		s.pendingSince = now
	}
	if now.Sub(s.pendingSince) >= d.window {
		s.reported, s.pendingSince = r, time.Time{}
	}
	return s.reported
}

// Seed makes r the member's reported state, unless
// the member has a state already; nil seeds nothing. A new status writer
// (another replica took the member over) seeds it with what the previous
// one reported, so that a flapping member does not flip at the handoff.
func (d *Debouncer) Seed(member, revision string, r *Result) {
	if r == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.states[member]; !ok {
		d.states[member] = &debounceState{revision: revision, reported: *r}
	}
}

// Forget drops a member's state (its Secret is gone or unusable).
func (d *Debouncer) Forget(member string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.states, member)
}
