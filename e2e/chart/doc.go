// Package chart tests deploy/charts/flink-hub with the Helm SDK: it renders
// the chart for default and other values, lints it, checks that the schema
// rejects bad values, and installs it into a real hub control plane, then
// runs the hub binary as the chart's ServiceAccount with the chart's
// arguments. Helm 3's CLI (bin/helm3) renders, lints, installs, upgrades
// and uninstalls the same chart, so both Helm majors are covered.
package chart
