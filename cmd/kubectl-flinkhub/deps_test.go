package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// pluginContracts are the only packages of this module besides apis/ that
// the plugin may depend on: what it shares with the hub as a contract
// (registration rules, the shard Lease format, trace attribute names) and
// its own commands. None of them may bring in the hub's machinery.
var pluginContracts = []string{
	"internal/clusters/registration",
	"internal/sharding/shardlease",
	"internal/sharding/shardscmd",
	"internal/observability/traceattr",
	"internal/observability/tracecmd",
	"internal/observability/jaegerquery",
	"internal/observability/waterfall",
}

// TestPluginDependsOnAPIsOnly: the kubectl plugin is built from apis/ and
// the contract packages, never from the hub's wiring, controllers or
// member machinery.
func TestPluginDependsOnAPIsOnly(t *testing.T) {
	const module = "github.com/flink-hub/flink-hub/"
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		rel, ok := strings.CutPrefix(pkg, module)
		if !ok || strings.HasPrefix(rel, "apis/") || rel == "cmd/kubectl-flinkhub" || slices.Contains(pluginContracts, rel) {
			continue
		}
		t.Errorf("the plugin depends on %s", rel)
	}
}
