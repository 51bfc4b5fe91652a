// Package traceattr names the attributes of the hub's reconcile spans: the
// hub writes them, `kubectl flinkhub trace` searches by them.
package traceattr

import "go.opentelemetry.io/otel/attribute"

// Attribute keys of reconcile spans.
const (
	Cluster    = attribute.Key("flinkhub.cluster")
	Namespace  = attribute.Key("flinkhub.namespace")
	Name       = attribute.Key("flinkhub.name")
	Generation = attribute.Key("flinkhub.generation")
	Shard      = attribute.Key("flinkhub.shard")
	Replica    = attribute.Key("flinkhub.replica")
	Result     = attribute.Key("flinkhub.result")
)
