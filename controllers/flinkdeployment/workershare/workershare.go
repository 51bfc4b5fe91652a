// Package workershare keeps one member cluster from holding every
// reconcile worker: each member may run at most a share of the workers at
// once. A member whose apiserver blackholes traffic makes every reconcile of
// its FlinkDeployments wait for a timeout; without a share, enough of them
// would occupy all workers and starve the FlinkDeployments of the healthy
// members.
package workershare

import (
	"fmt"
	"math"
	"sync"
)

// Limit is the number of workers one member may hold at once: share of
// workers, rounded up, at least 1 and at most workers. A share of 1 (or
// more) lets one member hold every worker.
func Limit(workers int, share float64) int {
	if workers < 1 {
		workers = 1
	}
	n := int(math.Ceil(float64(workers)*share - 1e-9))
	return min(max(n, 1), workers)
}

// Validate says whether share is a usable fraction of the workers: above 0
// and at most 1.
func Validate(share float64) error {
	if !(share > 0 && share <= 1) {
		return fmt.Errorf("the worker share of a member must be above 0 and at most 1, not %v", share)
	}
	return nil
}

// Shares counts the workers each member holds. It is safe for concurrent
// use; the zero value is not: use New.
type Shares struct {
	limit int

	mu   sync.Mutex
	busy map[string]int
}

// New returns Shares that admit at most limit workers per member (at
// least 1).
func New(limit int) *Shares {
	return &Shares{limit: max(limit, 1), busy: map[string]int{}}
}

// Limit is the number of workers one member may hold at once.
func (s *Shares) Limit() int { return s.limit }

// TryAcquire takes a worker for member if it holds fewer than the limit.
// When ok, the caller must call release exactly once when its work ends;
// release is idempotent.
func (s *Shares) TryAcquire(member string) (release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[member] >= s.limit {
		return nil, false
	}
	s.busy[member]++
	var once sync.Once
	return func() { once.Do(func() { s.release(member) }) }, true
}

func (s *Shares) release(member string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[member] <= 1 {
		delete(s.busy, member)
		return
	}
	s.busy[member]--
}

// Busy is the number of workers member holds now.
func (s *Shares) Busy(member string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busy[member]
}
