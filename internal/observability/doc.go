// Package observability sets up OpenTelemetry tracing for the hub, wraps
// reconcilers in a root span, instruments Kubernetes API transports, and
// registers the hub's Prometheus metrics. Controllers use only the helpers
// here and the OpenTelemetry API; they never import the SDK.
package observability
