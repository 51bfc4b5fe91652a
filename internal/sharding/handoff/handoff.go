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
)

type firstKey struct{}

// WithFirst returns ctx marked as the first reconcile of its key since its
// shard was acquired.
func WithFirst(ctx context.Context) context.Context {
	return context.WithValue(ctx, firstKey{}, true)
}

// First reports whether ctx is marked by WithFirst.
func First(ctx context.Context) bool {
	first, _ := ctx.Value(firstKey{}).(bool)
	return first
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
