// Package sharding is the end-to-end test of the sharded leader election:
// hub replicas run as separate processes (./replica) against a real hub and
// member control planes, and their reconcile records are audited.
package sharding
