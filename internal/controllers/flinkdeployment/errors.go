package flinkdeployment

import "errors"

// errReconcileDeadline is the cause of a reconcile context cancelled by
// Options.ReconcileTimeout.
var errReconcileDeadline = errors.New("reconcile deadline exceeded")
