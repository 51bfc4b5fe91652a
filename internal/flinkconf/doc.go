// Package flinkconf derives the effective Flink configuration of a
// FlinkDeployment the way the Apache operator does: the user's
// flinkConfiguration, then defaults, then the keys the operator owns
// (cluster id, namespace, image, resources, job settings, restore path).
package flinkconf
