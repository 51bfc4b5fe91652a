// Package deadline is a reconcile's deadline that a step with a budget of
// its own may go beyond: a jar upload, whose budget grows with the jar's
// size, is not cut by the reconcile deadline, and what follows it gets
// that deadline afresh. Every context it gives is still bounded and still
// ends with the reconcile's parent (shutdown, a shard handed off).
package deadline

import (
	"context"
	"time"
)

type key struct{}

// renewable is what WithTimeout records in its context.
type renewable struct {
	// outer is the parent: its end (not the deadline) ends every context
	// Beyond gives.
	outer context.Context
	// timeout is the deadline's length.
	timeout time.Duration
}

// WithTimeout is context.WithTimeout(parent, d) whose deadline Beyond and
// Renew can go beyond; d <= 0 sets no deadline (and nothing to go beyond).
func WithTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return parent, func() {}
	}
	ctx, cancel := context.WithTimeout(parent, d)
	return context.WithValue(ctx, key{}, &renewable{outer: parent, timeout: d}), cancel
}

// Beyond returns ctx bounded by d instead of the deadline WithTimeout set:
// its values are ctx's, and it ends after d or when WithTimeout's parent
// ends. Without such a deadline it is ctx bounded by d as well.
func Beyond(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	r, ok := ctx.Value(key{}).(*renewable)
	if !ok {
		return context.WithTimeout(ctx, d)
	}
	bounded, cancel := context.WithTimeout(context.WithoutCancel(ctx), d)
	stop := context.AfterFunc(r.outer, cancel)
	return bounded, func() { stop(); cancel() }
}

// Renew returns ctx with the deadline WithTimeout set started afresh, for
// what follows a step that went Beyond it; ctx itself without one.
func Renew(ctx context.Context) (context.Context, context.CancelFunc) {
	r, ok := ctx.Value(key{}).(*renewable)
	if !ok {
		return ctx, func() {}
	}
	return Beyond(ctx, r.timeout)
}
