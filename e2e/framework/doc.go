// Package framework starts real control planes for tests: one hub and N
// member kube-apiservers, each with its own etcd, built from source into
// bin/k8s by `make test-bins`. Tests in every package share it, usually from
// a TestMain, and must Stop what they start (Stop is safe after a failure).
// Programs started with Build and StartProcess inherit the test's race
// detector: under `go test -race` they are built with it and exit at their
// first data race.
package framework
