// Package flinkdeployment is the FlinkDeployment reconciler. One reconcile
// runs these phases in order, each in its own file: fetch (and deletion),
// observe (the JobManager Deployment, then the job over Flink REST),
// validate, diff against the last reconciled spec, act (deploy), and write
// status in one patch with the upstream operator's field names. Errors are
// typed (errors.go) and one function turns them into requeue decisions.
package flinkdeployment
