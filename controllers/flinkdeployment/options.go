package flinkdeployment

import (
	"flag"
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
	// ReconcileTimeout bounds one reconcile of a FlinkDeployment; its
	// error then names the step it was in. Zero disables it.
	ReconcileTimeout time.Duration
	// FieldOwner is the server-side apply field manager of member objects.
	FieldOwner string
}

// DefaultOptions are the upstream defaults.
func DefaultOptions() Options {
	return Options{
		ReconcileInterval:     60 * time.Second,
		ProgressCheckInterval: 10 * time.Second,
		ReadinessTimeout:      5 * time.Minute,
		ReconcileTimeout:      2 * time.Minute,
		FieldOwner:            "flink-hub",
	}
}

// AddFlags registers the options as flags.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	d := DefaultOptions()
	fs.DurationVar(&o.ReconcileInterval, "reconcile-interval", d.ReconcileInterval, "how often a stable FlinkDeployment is observed")
	fs.DurationVar(&o.ProgressCheckInterval, "progress-check-interval", d.ProgressCheckInterval, "how often a FlinkDeployment in progress is observed")
	fs.DurationVar(&o.ReadinessTimeout, "deployment-readiness-timeout", d.ReadinessTimeout, "how long a JobManager may take to become ready before it is reported as ERROR")
	fs.DurationVar(&o.ReconcileTimeout, "reconcile-timeout", d.ReconcileTimeout, "deadline of one FlinkDeployment reconcile (0 disables it); a reconcile that passes it fails, naming the step it was in")
	o.FieldOwner = d.FieldOwner
}
