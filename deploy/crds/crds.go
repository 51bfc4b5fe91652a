// Package crds embeds flink-hub's generated CRDs (the YAML files of this
// folder, written by `make generate`), so the hub can install them in
// member clusters.
package crds

import "embed"

// FS holds every generated CRD manifest of this folder.
//
//go:embed *.yaml
var FS embed.FS

// FlinkDeployment is the file name of the FlinkDeployment CRD in FS.
const FlinkDeployment = "flink.apache.org_flinkdeployments.yaml"

// FlinkSessionJob is the file name of the FlinkSessionJob CRD in FS.
const FlinkSessionJob = "flink.apache.org_flinksessionjobs.yaml"

// FlinkStateSnapshot is the file name of the FlinkStateSnapshot CRD in FS.
const FlinkStateSnapshot = "flink.apache.org_flinkstatesnapshots.yaml"
