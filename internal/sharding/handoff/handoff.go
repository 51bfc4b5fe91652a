// Package handoff marks, in a reconcile's context, the first reconcile of a
// key since this replica acquired the key's shard. Until then the key was
// another replica's, and that replica's last writes may not have reached
// this replica's cache yet: such a reconcile reads its object from the
// apiserver, not the cache.
//
// The elector sets the mark (sharding.Elector.Begin); controllers read it.
// It is a package of its own so that controllers need not know sharding.
package handoff

import (
	"context"
	"fmt"
	"time"
)

type firstKey struct{}

// WithFirst returns ctx marked as the first reconcile of its key since its
// shard was acquired, at a time it does not say: such a reconcile reads
// live.
func WithFirst(ctx context.Context) context.Context {
	return WithFirstSince(ctx, time.Time{})
}

// WithFirstSince returns ctx marked as the first reconcile of its key
// since its shard was acquired at acquired (the moment the Lease write
// that took the shard returned; zero when unknown).
func WithFirstSince(ctx context.Context, acquired time.Time) context.Context {
	return context.WithValue(ctx, firstKey{}, acquired)
}

// First reports whether ctx is marked by WithFirst or WithFirstSince.
func First(ctx context.Context) bool {
	_, first := ctx.Value(firstKey{}).(time.Time)
	return first
}

// Acquired is when the shard of a first reconcile's key was acquired:
// whatever another replica wrote before it, a read that starts after it
// sees. Zero when ctx is not a first reconcile or the time is unknown.
func Acquired(ctx context.Context) time.Time {
	at, _ := ctx.Value(firstKey{}).(time.Time)
	return at
}

type ownedKey struct{}

// WithOwnership returns ctx carrying owns, which says, from the replica's
// own clock at the moment it is asked, whether the replica still holds
// the reconciled key's shard. A context's cancellation comes from a timer
// that may run late after the process was stopped; owns does not.
func WithOwnership(ctx context.Context, owns func() bool) context.Context {
	return context.WithValue(ctx, ownedKey{}, owns)
}

// StillOwned reports whether the key of ctx is still this replica's: ctx
// not cancelled and, when ctx carries an ownership check (WithOwnership),
// that check passing now.
func StillOwned(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	owns, ok := ctx.Value(ownedKey{}).(func() bool)
	return !ok || owns()
}

// ErrNotOwned is the error of a write CheckOwned refused: it wraps
// context.Canceled, as the reconcile's context is cancelled when the fence
// lapses anyway.
var ErrNotOwned = fmt.Errorf("%w: this replica no longer owns the key", context.Canceled)

// CheckOwned returns nil while StillOwned(ctx), else ErrNotOwned. Writes
// call it just before they are sent: after a process pause the fence
// timers and the writing goroutine resume together, and the optimistic
// lock of a write does not stop it when the new owner has not written yet.
func CheckOwned(ctx context.Context) error {
	if StillOwned(ctx) {
		return nil
	}
	return ErrNotOwned
}
