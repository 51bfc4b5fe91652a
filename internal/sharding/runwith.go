package sharding

import (
	"context"
	"errors"
	"fmt"
)

// ErrManagerStopped is RunWith's error when the manager returned on its
// own, without an error: the replica reconciles nothing any more.
var ErrManagerStopped = errors.New("the controller manager stopped")

// RunWith runs mgr (a controller manager) beside the election until ctx
// ends, the election fails or the manager stops. When ctx ends or the
// election fails, the election ends first (it drains in-flight reconciles
// and releases every fence), then the manager, whose context keeps ctx's
// values but not its end. When the manager stops on its own (a runnable
// failed: a port taken, say), the election ends too: a replica whose
// manager is gone must not hold shards it can no longer reconcile. The
// manager's cancellation is not an error.
func (e *Elector) RunWith(ctx context.Context, mgr interface{ Start(context.Context) error }) error {
	mgrCtx, stopMgr := context.WithCancel(context.WithoutCancel(ctx))
	defer stopMgr()
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(mgrCtx) }()
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	runDone := make(chan error, 1)
	go func() { runDone <- e.Run(runCtx) }()
	select {
	case err := <-runDone:
		stopMgr()
		if merr := <-mgrDone; merr != nil && !errors.Is(merr, context.Canceled) {
			err = errors.Join(err, merr)
		}
		return err
	case merr := <-mgrDone:
		if merr == nil || errors.Is(merr, context.Canceled) {
			merr = ErrManagerStopped
		}
		e.beginStop() // no successor handshake: nothing works the shards now
		stopRun()
		err := <-runDone
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		return errors.Join(fmt.Errorf("leaving the election: %w", merr), err)
	}
}
