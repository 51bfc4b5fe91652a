// Package v1 holds the fleet API's wire types: the JSON the hub serves
// read-only over HTTPS (through the hub apiserver's service proxy) and the
// kubectl plugin reads.
//
//	GET /fleet/v1/deployments?cluster=&namespace=&name=&state=&owner=&limit=&continue=
//	GET /fleet/v1/sessionjobs?cluster=&namespace=&name=&state=&owner=&limit=&continue=
//	GET /fleet/v1/clusters
//	GET /fleet/v1/config/{cluster}/{namespace}/{name}
package v1

import (
	"strings"
	"time"
)

// Paths of the fleet API.
const (
	// DeploymentsPath lists the fleet's FlinkDeployments (DeploymentList).
	DeploymentsPath = "/fleet/v1/deployments"
	// SessionJobsPath lists the fleet's FlinkSessionJobs (DeploymentList
	// of rows of KindFlinkSessionJob).
	SessionJobsPath = "/fleet/v1/sessionjobs"
	// ClustersPath lists the member clusters (ClusterList).
	ClustersPath = "/fleet/v1/clusters"
	// SummaryPath counts the fleet's FlinkDeployments and FlinkSessionJobs
	// per member and state (Summary), and those passing the query's
	// filters: what a fleet overview needs without reading every row.
	SummaryPath = "/fleet/v1/summary"
	// ConfigPath, followed by cluster/namespace/name, is a
	// FlinkDeployment's effective configuration (Configuration).
	ConfigPath = "/fleet/v1/config/"
	// ConsolePath is where the web console is served, beside the fleet
	// API and behind the same authentication.
	ConsolePath = "/console/"
)

// Configuration is a FlinkDeployment's effective Flink configuration: its
// own flinkConfiguration over its member's and the fleet's defaults.
type Configuration struct {
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Items are the settings, by key.
	Items []Setting `json:"items"`
}

// Setting is one key of an effective configuration and where it came
// from: "resource", "member default" or "fleet default". The values of
// keys Flink treats as sensitive (passwords, secrets, tokens) are masked.
type Setting struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`
}

// TokenHeader carries the caller's bearer token ("Bearer <token>") through
// the hub apiserver's service proxy, which does not forward the caller's
// own Authorization header.
const TokenHeader = "X-Flink-Hub-Authorization"

// Kinds of the rows of the fleet API.
const (
	// KindFlinkDeployment is a FlinkDeployment's row.
	KindFlinkDeployment = "FlinkDeployment"
	// KindFlinkSessionJob is a FlinkSessionJob's row.
	KindFlinkSessionJob = "FlinkSessionJob"
)

// Deployment is one FlinkDeployment, or one FlinkSessionJob, of the fleet.
type Deployment struct {
	// Kind is KindFlinkDeployment or KindFlinkSessionJob.
	Kind      string `json:"kind"`
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Shard is the deployment's virtual shard; nil while unknown.
	Shard *int `json:"shard,omitempty"`
	// Owner is the hub replica reconciling the deployment; empty while
	// unknown.
	Owner string `json:"owner,omitempty"`
	// LifecycleState is status.lifecycleState (CREATED, STABLE, ...).
	LifecycleState string `json:"lifecycleState,omitempty"`
	// JobState is status.jobStatus.state (RUNNING, FAILED, ...).
	JobState     string `json:"jobState,omitempty"`
	FlinkVersion string `json:"flinkVersion,omitempty"`
	// Mode is native or standalone (native when unset, as upstream).
	Mode string `json:"mode,omitempty"`
	// LastReconcile is status.reconciliationStatus.reconciliationTimestamp.
	LastReconcile *time.Time `json:"lastReconcile,omitempty"`
	// Error is status.error's message, empty while nothing is wrong.
	Error string `json:"error,omitempty"`
	// SessionCluster is a session job's session cluster (its
	// spec.deploymentName).
	SessionCluster string `json:"sessionCluster,omitempty"`
	// SessionJobs counts the session jobs of a session cluster.
	SessionJobs int `json:"sessionJobs,omitempty"`
	// Reason is the kind of the error (problem.Reason), Unknown for
	// status.error written by something other than the hub.
	Reason string `json:"reason,omitempty"`
	// JobManagerStatus is a FlinkDeployment's
	// status.jobManagerDeploymentStatus.
	JobManagerStatus string `json:"jobManagerStatus,omitempty"`
	// RunningFlinkVersion is the version the JobManager reports
	// (status.clusterInfo flink-version).
	RunningFlinkVersion string `json:"runningFlinkVersion,omitempty"`
	// CPU and Memory (bytes) are the cluster's totals from
	// status.clusterInfo (total-cpu, total-memory); 0 while unknown.
	CPU    float64 `json:"cpu,omitempty"`
	Memory int64   `json:"memory,omitempty"`
}

// errorLineWidth bounds ErrorLine.
const errorLineWidth = 60

// ErrorLine is the first line of the deployment's error, at most 60
// characters, for tables; "..." marks what it leaves out.
func (d *Deployment) ErrorLine() string {
	line, _, more := strings.Cut(d.Error, "\n")
	if r := []rune(line); len(r) > errorLineWidth {
		line, more = string(r[:errorLineWidth-3]), true
	}
	if more {
		line += "..."
	}
	return line
}

// Cluster is one member cluster of the fleet.
type Cluster struct {
	Name              string     `json:"name"`
	Ready             bool       `json:"ready"`
	Reason            string     `json:"reason,omitempty"`
	Message           string     `json:"message,omitempty"`
	KubernetesVersion string     `json:"kubernetesVersion,omitempty"`
	LastProbe         *time.Time `json:"lastProbe,omitempty"`
	// Deployments counts the member's FlinkDeployments.
	Deployments int `json:"deployments"`
}

// MaxLimit is the largest page a list answers (?limit=, 1 to MaxLimit);
// without a limit a list answers every row.
const MaxLimit = 10000

// DeploymentList is the answer of DeploymentsPath.
type DeploymentList struct {
	// Items are sorted by cluster, namespace and name.
	Items []Deployment `json:"items"`
	// Incomplete names the hub replicas whose rows are missing (they did
	// not answer in time), each with why; empty when the list is whole.
	Incomplete []string `json:"incomplete,omitempty"`
	// Continue, when set, asks for the next page (?continue=, with the
	// same filters and limit): the rows after this page's last, as the
	// fleet is then. Empty on the last page. Pages are not a snapshot: a
	// row that changes between two pages is listed as it is when its
	// page is read.
	Continue string `json:"continue,omitempty"`
}

// ClusterList is the answer of ClustersPath.
type ClusterList struct {
	Items []Cluster `json:"items"`
	// Incomplete is as in DeploymentList.
	Incomplete []string `json:"incomplete,omitempty"`
}

// Summary is the answer of SummaryPath.
type Summary struct {
	// Clusters are the members that have FlinkDeployments or
	// FlinkSessionJobs, sorted by name.
	Clusters []ClusterSummary `json:"clusters"`
	// Incomplete is as in DeploymentList.
	Incomplete []string `json:"incomplete,omitempty"`
}

// ClusterSummary counts one member's FlinkDeployments and FlinkSessionJobs
// together.
type ClusterSummary struct {
	Cluster string `json:"cluster"`
	// Total counts them all.
	Total int `json:"total"`
	// ByState counts them by Deployment.CountedState.
	ByState map[string]int `json:"byState"`
	// States are every lifecycle and job state they are in, sorted.
	States []string `json:"states,omitempty"`
	// Matched counts those passing the request's filters.
	Matched int `json:"matched"`
}

// UnknownState is the CountedState of a row with neither a job nor a
// lifecycle state.
const UnknownState = "UNKNOWN"

// CountedState is the state a row is counted under in a Summary: its
// job's state when it has one, else its lifecycle state, else
// UnknownState.
func (d *Deployment) CountedState() string {
	switch {
	case d.JobState != "":
		return d.JobState
	case d.LifecycleState != "":
		return d.LifecycleState
	}
	return UnknownState
}
