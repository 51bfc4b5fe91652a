// Package workershare keeps one member cluster from holding every
// reconcile worker: each member may run at most a share of the workers at
// once. A member whose apiserver blackholes traffic makes every reconcile of
// its FlinkDeployments wait for a timeout; without a share, enough of them
// would occupy all workers and starve the FlinkDeployments of the healthy
// members. Requests turned away wait in a line per member and are handed
// back, oldest first, as soon as a worker of their member is free: the
// share costs a healthy member no latency.
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

// Shares counts the workers each member holds and lines up the requests
// turned away. T is the request type. It is safe for concurrent use; the
// zero value is not: use New.
type Shares[T comparable] struct {
	limit int

	mu      sync.Mutex
	busy    map[string]int
	waiting map[string][]T
	queued  map[T]bool
}

// New returns Shares that admit at most limit workers per member (at
// least 1).
func New[T comparable](limit int) *Shares[T] {
	return &Shares[T]{limit: max(limit, 1), busy: map[string]int{}, waiting: map[string][]T{}, queued: map[T]bool{}}
}

// Limit is the number of workers one member may hold at once.
func (s *Shares[T]) Limit() int { return s.limit }

// TryAcquire takes a worker for member if it holds fewer than the limit.
// When ok, the caller must call release exactly once when its work ends;
// release is idempotent and returns the request of member to hand back
// now, if one waits. When not ok, req waits in member's line (once, however
// often it is turned away): a later release hands it back, so it is never
// lost while a worker of member is busy, which is why it was turned away.
func (s *Shares[T]) TryAcquire(member string, req T) (release func() (next T, ok bool), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[member] >= s.limit {
		if !s.queued[req] {
			s.queued[req] = true
			s.waiting[member] = append(s.waiting[member], req)
		}
		return nil, false
	}
	s.busy[member]++
	var once sync.Once
	return func() (next T, ok bool) {
		once.Do(func() { next, ok = s.release(member) })
		return next, ok
	}, true
}

func (s *Shares[T]) release(member string) (next T, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[member] <= 1 {
		delete(s.busy, member)
	} else {
		s.busy[member]--
	}
	line := s.waiting[member]
	if len(line) == 0 {
		return next, false
	}
	next, line = line[0], line[1:]
	if len(line) == 0 {
		delete(s.waiting, member)
	} else {
		s.waiting[member] = line
	}
	delete(s.queued, next)
	return next, true
}

// Busy is the number of workers member holds now.
func (s *Shares[T]) Busy(member string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busy[member]
}

// Waiting is the number of requests of member waiting for a worker.
func (s *Shares[T]) Waiting(member string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waiting[member])
}
