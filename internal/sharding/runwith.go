package sharding

import (
	"context"
	"errors"
)

// RunWith runs mgr (a controller manager) beside the election until ctx
// ends or the election fails. The election ends first (it drains in-flight
// reconciles and releases every fence), then the manager, whose context
// keeps ctx's values but not its end. The manager's cancellation is not an
// error.
func (e *Elector) RunWith(ctx context.Context, mgr interface{ Start(context.Context) error }) error {
	mgrCtx, stopMgr := context.WithCancel(context.WithoutCancel(ctx))
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(mgrCtx) }()
	err := e.Run(ctx)
	stopMgr()
	if merr := <-mgrDone; merr != nil && !errors.Is(merr, context.Canceled) {
		err = errors.Join(err, merr)
	}
	return err
}
