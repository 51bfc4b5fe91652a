// Package handoff marks, in a reconcile's context, the first reconcile of a
// key since this replica acquired the key's shard. Until then the key was
// another replica's, and that replica's last writes may not have reached
// this replica's cache yet: such a reconcile reads its object from the
// apiserver, not the cache.
//
// The elector sets the mark (sharding.Elector.Begin); controllers read it.
// It is a package of its own so that controllers need not know sharding.
package handoff

import "context"

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
