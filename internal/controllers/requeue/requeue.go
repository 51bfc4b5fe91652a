// Package requeue holds the typed errors the controllers return and
// decides, in one place (Result), what each means for the workqueue:
// stalling errors wait for the user, waiting errors for their delay, a
// reconcile cut short by its deadline and any other error go back with
// backoff.
package requeue

import (
	"errors"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// StallingError needs the user: an invalid spec. It is reported in
// status.error; the reconcile is retried on the next spec change or at the
// reconcile interval, never in a loop.
type StallingError struct{ err error }

func (e *StallingError) Error() string { return e.err.Error() }
func (e *StallingError) Unwrap() error { return e.err }

// WaitingError is progress that is not there yet (a JobManager starting);
// the reconcile is checked again after the given delay without backoff.
type WaitingError struct {
	err   error
	after time.Duration
}

func (e *WaitingError) Error() string { return e.err.Error() }
func (e *WaitingError) Unwrap() error { return e.err }

// After is the delay before the next check.
func (e *WaitingError) After() time.Duration { return e.after }

// ReportedError is a generic error its phase already put in status.error
// in its own words; it is retried with backoff like any other, and the
// stall report leaves status.error as the phase wrote it.
type ReportedError struct{ err error }

func (e *ReportedError) Error() string { return e.err.Error() }
func (e *ReportedError) Unwrap() error { return e.err }

// DeadlineError is the error of a reconcile whose deadline passed: it
// names the deadline and the step the reconcile was in.
type DeadlineError struct {
	// Limit is the reconcile deadline.
	Limit time.Duration
	// Step is what the reconcile was doing.
	Step string
	// Err is the error the step returned.
	Err error
}

func (e *DeadlineError) Error() string {
	return fmt.Sprintf("reconcile deadline of %s exceeded while %s: %v", e.Limit, e.Step, e.Err)
}
func (e *DeadlineError) Unwrap() error { return e.Err }

// Stalling wraps err as needing the user.
func Stalling(err error) error { return &StallingError{err: err} }

// Waiting wraps err as progress to check again after d.
func Waiting(err error, d time.Duration) error { return &WaitingError{err: err, after: d} }

// Reported wraps err as already in status.error.
func Reported(err error) error { return &ReportedError{err: err} }

// IsWaiting reports whether err is progress to check again later.
func IsWaiting(err error) bool {
	var w *WaitingError
	return errors.As(err, &w)
}

// Result decides requeueing: stalling errors wait for the reconcile
// interval, waiting errors for their delay, other errors (a reconcile cut
// short by its deadline whatever it wrapped) go back to the workqueue with
// backoff, and success requeues after next.
func Result(err error, next, reconcileInterval time.Duration) (reconcile.Result, error) {
	var s *StallingError
	var w *WaitingError
	var d *DeadlineError
	switch {
	case err == nil:
		return reconcile.Result{RequeueAfter: next}, nil
	case errors.As(err, &d):
		return reconcile.Result{}, err
	case errors.As(err, &s):
		return reconcile.Result{RequeueAfter: reconcileInterval}, nil
	case errors.As(err, &w):
		return reconcile.Result{RequeueAfter: w.after}, nil
	default:
		return reconcile.Result{}, err
	}
}
