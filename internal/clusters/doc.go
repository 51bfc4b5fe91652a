// Package clusters wires the hub's member cluster machinery onto a
// multicluster-runtime manager: member registration from labelled
// kubeconfig Secrets (multicluster-runtime's kubeconfig provider), health
// probing and MemberCluster status (memberstatus), CRD installs in members
// (crdinstall), and the fleet index with its HTTP API (fleetindex,
// fleetapi).
package clusters
