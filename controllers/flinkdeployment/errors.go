package flinkdeployment

import (
	"errors"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// stallingError needs the user: an invalid spec. It is reported in
// status.error; the reconcile is retried on the next spec change or at the
// reconcile interval, never in a loop.
type stallingError struct{ err error }

func (e *stallingError) Error() string { return e.err.Error() }
func (e *stallingError) Unwrap() error { return e.err }

// waitingError is progress that is not there yet (a JobManager starting);
// the reconcile is checked again after the given delay without backoff.
type waitingError struct {
	err   error
	after time.Duration
}

func (e *waitingError) Error() string { return e.err.Error() }
func (e *waitingError) Unwrap() error { return e.err }

// reportedError is a generic error its phase already put in status.error
// in its own words; it is retried with backoff like any other, and the
// stall report leaves status.error as the phase wrote it.
type reportedError struct{ err error }

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }

// reported wraps err as already in status.error.
func reported(err error) error { return &reportedError{err: err} }

// stalling wraps err as needing the user.
func stalling(err error) error { return &stallingError{err: err} }

// waiting wraps err as progress to check again after d.
func waiting(err error, d time.Duration) error { return &waitingError{err: err, after: d} }

// errReconcileDeadline is the cause of a reconcile context cancelled by
// Options.ReconcileTimeout.
var errReconcileDeadline = errors.New("reconcile deadline exceeded")

// deadlineError is the error of a reconcile whose deadline passed: it names
// the deadline and the step the reconcile was in.
type deadlineError struct {
	limit time.Duration
	step  string
	err   error
}

func (e *deadlineError) Error() string {
	return fmt.Sprintf("reconcile deadline of %s exceeded while %s: %v", e.limit, e.step, e.err)
}
func (e *deadlineError) Unwrap() error { return e.err }

// resultFor decides requeueing in one place: stalling errors wait for the
// reconcile interval, waiting errors for their delay, other errors go back
// to the workqueue with backoff, and success requeues after next.
func resultFor(err error, next, reconcileInterval time.Duration) (reconcile.Result, error) {
	var s *stallingError
	var w *waitingError
	var d *deadlineError
	switch {
	case err == nil:
		return reconcile.Result{RequeueAfter: next}, nil
	case errors.As(err, &d):
		// Whatever it wrapped, a reconcile cut short is retried with
		// backoff and its error is reported.
		return reconcile.Result{}, err
	case errors.As(err, &s):
		return reconcile.Result{RequeueAfter: reconcileInterval}, nil
	case errors.As(err, &w):
		return reconcile.Result{RequeueAfter: w.after}, nil
	default:
		return reconcile.Result{}, err
	}
}
