package flinkdeployment

import (
	"errors"
	"flag"
	"fmt"
	"time"
)

// Options are the reconciler's intervals, with the upstream operator's
// defaults.
type Options struct {
	// ReconcileInterval is how often a stable deployment is observed
	// (upstream kubernetes.operator.reconcile.interval).
	ReconcileInterval time.Duration
	// ProgressCheckInterval is how often a deployment in progress is
	// observed (upstream kubernetes.operator.observer.progress-check.interval).
	ProgressCheckInterval time.Duration
	// ReadinessTimeout is how long a JobManager may take to become ready
	// before it is reported as ERROR (upstream
	// kubernetes.operator.deployment.readiness.timeout).
	ReadinessTimeout time.Duration
	// MaxRetryBackoff caps the delay before a failed reconcile is retried
	// (controller-runtime's default grows to 16 minutes), so that work
	// resumes soon after its cause is fixed. The reconcile interval caps it
	// too.
	MaxRetryBackoff time.Duration
	// StateSizeInterval is how often a running job's state size is read
	// from Flink's checkpoint statistics and, when it changed, written to
	// status.clusterInfo (state-size). Upstream reads it on every
	// observation; the size changes with nearly every checkpoint, so that
	// is a status write per FlinkDeployment per reconcile interval, the
	// bulk of a stable fleet's writes. It is read on the first
	// observation due after the interval, so at most this often.
	StateSizeInterval time.Duration
	// ReconcileTimeout bounds one reconcile of a FlinkDeployment; its
	// error then names the step it was in. Zero disables it.
	ReconcileTimeout time.Duration
	// FieldOwner is the server-side apply field manager of member objects.
	FieldOwner string
}

// DefaultOptions are the upstream defaults, and the hub's own where
// upstream has none (StateSizeInterval).
func DefaultOptions() Options {
	return Options{
		ReconcileInterval:     60 * time.Second,
		ProgressCheckInterval: 10 * time.Second,
		ReadinessTimeout:      5 * time.Minute,
		MaxRetryBackoff:       time.Minute,
		StateSizeInterval:     10 * time.Minute,
		ReconcileTimeout:      2 * time.Minute,
		FieldOwner:            "flink-hub",
	}
}

// BindFlags registers the options as flags, with DefaultOptions.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	d := DefaultOptions()
	fs.DurationVar(&o.ReconcileInterval, "reconcile-interval", d.ReconcileInterval, "how often a stable FlinkDeployment is observed")
	fs.DurationVar(&o.ProgressCheckInterval, "progress-check-interval", d.ProgressCheckInterval, "how often a FlinkDeployment in progress is observed")
	fs.DurationVar(&o.ReadinessTimeout, "deployment-readiness-timeout", d.ReadinessTimeout, "how long a JobManager may take to become ready before it is reported as ERROR")
	fs.DurationVar(&o.MaxRetryBackoff, "max-retry-backoff", d.MaxRetryBackoff, "the longest wait before a failed reconcile is retried (at most the reconcile interval)")
	fs.DurationVar(&o.StateSizeInterval, "state-size-interval", d.StateSizeInterval, "how often a running job's state size is read from its checkpoint statistics and, when it changed, written to status.clusterInfo (state-size)")
	fs.DurationVar(&o.ReconcileTimeout, "reconcile-timeout", d.ReconcileTimeout, "deadline of one FlinkDeployment reconcile (0 disables it); a reconcile that passes it fails, naming the step it was in")
	o.FieldOwner = d.FieldOwner
}

// Validate refuses intervals that would turn observation or retries off
// silently: zero or negative intervals and timeouts (a zero reconcile
// timeout disables the deadline, as its flag says).
func (o Options) Validate() error {
	var problems []error
	for _, d := range []struct {
		flag  string
		value time.Duration
	}{
		{"--reconcile-interval", o.ReconcileInterval},
		{"--progress-check-interval", o.ProgressCheckInterval},
		{"--deployment-readiness-timeout", o.ReadinessTimeout},
		{"--max-retry-backoff", o.MaxRetryBackoff},
		{"--state-size-interval", o.StateSizeInterval},
	} {
		if d.value <= 0 {
			problems = append(problems, fmt.Errorf("%s must be positive, not %v", d.flag, d.value))
		}
	}
	if o.ReconcileTimeout < 0 {
		problems = append(problems, fmt.Errorf("--reconcile-timeout must not be negative (0 disables it), not %v", o.ReconcileTimeout))
	}
	return errors.Join(problems...)
}

// maxRetryBackoff is MaxRetryBackoff, at most the reconcile interval, and
// a minute when unset.
func (o Options) maxRetryBackoff() time.Duration {
	d := o.MaxRetryBackoff
	if d <= 0 {
		d = time.Minute
	}
	if o.ReconcileInterval > 0 && o.ReconcileInterval < d {
		d = o.ReconcileInterval
	}
	return d
}
