package hubtest

import (
	"context"
	"sync/atomic"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CountingReader is Reader counting its Gets of objects of type T: the
// live reads a test expects a reconcile to send or to spare.
type CountingReader[T client.Object] struct {
	client.Reader
	Reads *atomic.Int32
}

// Get counts a Get into a T and passes it on.
func (c CountingReader[T]) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(T); ok {
		c.Reads.Add(1)
	}
	return c.Reader.Get(ctx, key, obj, opts...)
}
