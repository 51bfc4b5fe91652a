// Package conformance checks that flink-hub's FlinkDeployment CRD is
// wire-compatible with the Apache Flink Kubernetes Operator's: the same
// manifests are accepted, stored and read back identically, and the same bad
// manifests are rejected. testdata/upstream holds the reference CRDs and
// examples (Apache License 2.0).
package conformance
