// Package hub runs the flink-hub binary end to end: replicas as separate
// processes against a hub and member control planes, with the Flink
// simulator and Jaeger.
package hub
