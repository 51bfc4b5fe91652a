package clusters_test

import (
	"testing"
	"time"
)

// TestHubStopsWhileAMemberHangs registers a member whose apiserver accepts
// connections and never answers, waits until the hub is connecting to it,
// and stops the hub: a replica told to stop must not wait on a member
// that does not answer (its Leases would be held until it is killed).
func TestHubStopsWhileAMemberHangs(t *testing.T) {
	const ns = "hangstop"
	if err := fleet.Hub.CreateNamespace(t.Context(), ns); err != nil {
		t.Fatal(err)
	}
	hanging, accepted := hangingServerCounting(t)
	_, stop := launchHub(t, fleet.Hub.Config, testOptions(ns))
	kubeconfig := withServer(t, hubKubeconfig(t, fleet.Members[1]), "https://"+hanging)
	if err := fleet.Hub.Client.Create(t.Context(), memberSecret(ns, "hanging", kubeconfig)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the hub connects to the hanging member (its probes and its claim)", func() error {
		if accepted() < 3 {
			return errNotYet
		}
		return nil
	})
	stop() // fails the test when the hub does not stop within its grace period
}
