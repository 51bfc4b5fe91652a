package sharding

import (
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// NewClient is the hub client an Elector needs: its own client-side rate
// limit, so renewals never wait behind the replica's other requests.
// (Protobuf instead of JSON for the Leases changed nothing measurable in
// BenchmarkElectionCPU, so the clientset's default stays.)
func NewClient(cfg *rest.Config) (kubernetes.Interface, error) {
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = 100, 200
	return kubernetes.NewForConfig(c)
}
