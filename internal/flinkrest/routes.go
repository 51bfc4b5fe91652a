package flinkrest

import (
	_ "embed"
	"strings"

	"sigs.k8s.io/yaml"
)

//go:embed api/rest_v1_dispatcher.yml
var specYAML []byte

// routes maps each operation id of Flink's REST spec to "METHOD /route", the
// route template with its parameters (e.g. "POST /jobs/{jobid}/stop"), so
// span names never carry ids.
var routes = loadRoutes(specYAML)

func loadRoutes(spec []byte) map[string]string {
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	out := map[string]string{}
	if err := yaml.Unmarshal(spec, &doc); err != nil {
		return out
	}
	for path, methods := range doc.Paths {
		for method, op := range methods {
			if op.OperationID != "" {
				out[op.OperationID] = strings.ToUpper(method) + " " + path
			}
		}
	}
	return out
}

// RouteOf is the route template of an operation id, "" if unknown.
func RouteOf(operationID string) string { return routes[operationID] }
