package flinkdeployment

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// maxRemembered bounds a memo: past it, everything is forgotten and learnt
// again (said once more, read once more).
const maxRemembered = 200_000

// memo is what a replica remembers per object, by UID: safe for
// concurrent use, bounded by maxRemembered, and ready as the zero value.
type memo[V any] struct {
	mu sync.Mutex
	m  map[types.UID]V
}

// update calls f with uid's value (ok false when there is none) and keeps
// what f returns, or forgets uid when keep is false.
func (m *memo[V]) update(uid types.UID, f func(v V, ok bool) (next V, keep bool)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[uid]
	next, keep := f(v, ok)
	switch {
	case !keep:
		delete(m.m, uid)
	case m.m == nil || (!ok && len(m.m) >= maxRemembered):
		m.m = map[types.UID]V{uid: next}
	default:
		m.m[uid] = next
	}
}

// get returns uid's value.
func (m *memo[V]) get(uid types.UID) (v V, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok = m.m[uid]
	return v, ok
}

// set makes v uid's value.
func (m *memo[V]) set(uid types.UID, v V) {
	m.update(uid, func(V, bool) (V, bool) { return v, true })
}

// ownWriteWait is how long a reconcile waits for the cache to bring this
// replica's own last write of a FlinkDeployment; past it the cache is
// trusted again (the write fence still stops a write based on it).
const ownWriteWait = 5 * time.Second

// ownWriteRecheck is how soon a reconcile that found its own last write
// missing from the cache looks again.
const ownWriteRecheck = 100 * time.Millisecond

// ownWrites remember, per FlinkDeployment, the resourceVersion that this
// replica's last write of it replaced, and when. A reconcile whose cached
// copy still has that version would work from a status this replica has
// already replaced: its writes could only fail on the fence (a request
// spent on a conflict) and its steps repeat what was done, so it waits
// for the cache instead. Status writes trigger no reconcile, so this is
// read-your-writes for the reconciles something else triggers (a
// JobManager turning available right after the status said deploying).
type ownWrites struct{ m memo[ownWrite] }

type ownWrite struct {
	replaced string
	at       time.Time
}

// wrote records a write of uid that replaced resourceVersion replaced.
func (w *ownWrites) wrote(uid types.UID, replaced string, at time.Time) {
	w.m.set(uid, ownWrite{replaced: replaced, at: at})
}

// lagging reports whether a cached copy of uid at resourceVersion rv
// lacks this replica's last write of it, written less than ownWriteWait
// before now. Once the cache has it (or the wait is over), uid is
// forgotten.
func (w *ownWrites) lagging(uid types.UID, rv string, now time.Time) bool {
	lag := false
	w.m.update(uid, func(last ownWrite, ok bool) (ownWrite, bool) {
		lag = ok && last.replaced == rv && now.Sub(last.at) < ownWriteWait
		return last, lag
	})
	return lag
}
