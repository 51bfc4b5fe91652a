package console

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
)

// BenchmarkFleetRefresh measures what one open fleet page costs the replica
// it asks every second (RefreshInterval), on a fleet of 100,000
// FlinkDeployments over 1,000 members, half of them served by a peer
// replica (asked over HTTPS as in production).
func BenchmarkFleetRefresh(b *testing.B) {
	own, peer := fleetindex.New(), fleetindex.New()
	states := []string{"RUNNING", "RUNNING", "RUNNING", "FAILED", "RECONCILING"}
	for i := range 100000 {
		ix := own
		if i%1000 >= 500 {
			ix = peer
		}
		ix.UpsertDeployment(fleetv1.Deployment{
			Kind: fleetv1.KindFlinkDeployment, Cluster: "member-" + strconv.Itoa(i%1000), Namespace: "team-" + strconv.Itoa(i%7),
			Name: "fd-" + strconv.Itoa(i), LifecycleState: "STABLE", JobState: states[i%len(states)], Mode: "native",
		})
	}
	peerSrv := httptest.NewTLSServer(fleetapi.Handler(&fleetapi.Fleet{Index: peer}, nil))
	b.Cleanup(peerSrv.Close)
	peers := []fleetapi.Peer{{ID: "hub-1", Address: strings.TrimPrefix(peerSrv.URL, "https://")}}
	h, err := New(Options{Fleet: &fleetapi.Fleet{Index: own, Peers: func() []fleetapi.Peer { return peers }}})
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{"", "?state=FAILED", "?cluster=member-7"} {
		b.Run("query="+q, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, Prefix+"fleet/rows"+q, nil))
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "member-999") {
					b.Fatalf("%d: the rows do not count every member", rec.Code)
				}
			}
		})
	}
}
