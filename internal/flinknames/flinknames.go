// Package flinknames holds the names of a Flink cluster's member objects
// that both the deployers create and the Flink REST transports reach, and
// the Ingress rule that both validation and the deployers read from
// spec.ingress: one definition, so they cannot drift apart.
package flinknames

// RestService is the name of the JobManager's REST Service of the Flink
// cluster named name.
func RestService(name string) string { return name + "-rest" }

// RestPort is the name of the REST port of the JobManager's container and
// Service.
const RestPort = "rest"
