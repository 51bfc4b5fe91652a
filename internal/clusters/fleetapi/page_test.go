package fleetapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
)

// TestPagesAcrossReplicas pages through the fleet from a replica that
// asks two peers (one a replica as this one, one that ignores ?limit= and
// ?continue=, as a replica of an older hub during a rollout): every page
// size lists the whole fleet in order, each row once, and the last page
// says so. A limit or token this API did not issue is refused with why.
func TestPagesAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	const ns = "fleet-pages"
	token := fleetReader(t, ctx, ns)
	addrA, want := startPagedFleet(t, ctx, ns)
	for _, limit := range []int{1, 2, 4, 10, 32, 33, 34} {
		var got []string
		cont := ""
		for pages := 0; ; pages++ {
			if pages > len(want) {
				t.Fatalf("limit %d: no last page", limit)
			}
			q := url.Values{"limit": {strconv.Itoa(limit)}}
			if cont != "" {
				q.Set("continue", cont)
			}
			var list fleetapi.DeploymentList
			if err := framework.FleetGet(ctx, addrA, token, fleetv1.DeploymentsPath+"?"+q.Encode(), &list); err != nil {
				t.Fatal(err)
			}
			if len(list.Items) > limit || len(list.Items) == 0 || len(list.Incomplete) > 0 {
				t.Fatalf("limit %d, page %d: %d rows, incomplete %v", limit, pages, len(list.Items), list.Incomplete)
			}
			got = append(got, rowKeys(list.Items)...)
			if cont = list.Continue; cont == "" {
				break
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("limit %d: pages hold %v, want %v", limit, got, want)
		}
	}

	checkPageRefusals(t, ctx, addrA, token)
}

// sortKeys sorts "cluster/namespace/name" keys as the fleet API lists them.
func sortKeys(keys []string) {
	split := func(s string) fleetindex.Key {
		p := strings.SplitN(s, "/", 3)
		return fleetindex.Key{Cluster: p[0], Namespace: p[1], Name: p[2]}
	}
	slices.SortFunc(keys, func(a, b string) int { return fleetindex.CompareKeys(split(a), split(b)) })
}

// startPagedFleet serves a fleet of 33 rows from replica a, which asks
// replica b and a replica of an older hub, and returns a's address and
// the rows' keys in order.
func startPagedFleet(t *testing.T, ctx context.Context, ns string) (string, []string) {
	t.Helper()
	ixA, ixB := fleetindex.New(), fleetindex.New()
	var old []fleetv1.Deployment
	var want []string
	for i := range 30 {
		d := fleetindex.Deployment{Kind: fleetv1.KindFlinkDeployment, Cluster: "m" + strconv.Itoa(i%4), Namespace: "ns", Name: "fd-" + strconv.Itoa(i)}
		switch i % 3 {
		case 0:
			ixA.UpsertDeployment(d)
		case 1:
			ixB.UpsertDeployment(d)
		default:
			old = append(old, d)
		}
		if i%5 == 0 { // rows of a member two replicas serve
			ixA.UpsertDeployment(d)
			ixB.UpsertDeployment(d)
		}
		want = append(want, fleetindex.KeyOf(&d).String())
	}
	// The last rows are one peer's alone: its pages say when more follow.
	for i := range 3 {
		d := fleetindex.Deployment{Kind: fleetv1.KindFlinkDeployment, Cluster: "m9", Namespace: "ns", Name: "fd-" + strconv.Itoa(i)}
		ixB.UpsertDeployment(d)
		want = append(want, fleetindex.KeyOf(&d).String())
	}
	sortKeys(want)
	oldPeer := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(fleetapi.DeploymentList{Items: old})
	}))
	t.Cleanup(oldPeer.Close)
	addrB := startFleetServer(t, &fleetapi.Fleet{Index: ixB}, ns, ctx)
	peers := []fleetapi.Peer{{ID: "hub-b", Address: addrB}, {ID: "hub-old", Address: strings.TrimPrefix(oldPeer.URL, "https://")}}
	return startFleetServer(t, &fleetapi.Fleet{Index: ixA, Peers: func() []fleetapi.Peer { return peers }}, ns, ctx), want
}

// checkPageRefusals: a limit or token the API did not issue is refused
// with why.
func checkPageRefusals(t *testing.T, ctx context.Context, addr, token string) {
	t.Helper()
	for _, tc := range []struct{ query, msg string }{
		{"limit=0", "limit: want a whole number from 1 to 10000"},
		{"limit=10001", "limit: want a whole number"},
		{"limit=ten", "limit: want a whole number"},
		{"continue=not-a-token", "continue: not a token of this API"},
		{"continue=" + base64.RawURLEncoding.EncodeToString([]byte("m1\x00ns")), "continue: not a token"},
		{"continue=" + strings.Repeat("A", 2000), "continue: not a token"},
	} {
		err := framework.FleetGet(ctx, addr, token, fleetv1.DeploymentsPath+"?"+tc.query, nil)
		var fe *framework.FleetError
		if !errors.As(err, &fe) || fe.Status != http.StatusBadRequest || !strings.Contains(fe.Message, tc.msg) {
			t.Errorf("?%s: %v, want 400 with %q", tc.query, err, tc.msg)
		}
	}
}

// rowKeys are the rows' keys, "cluster/namespace/name".
func rowKeys(rows []fleetv1.Deployment) []string {
	out := []string{}
	for _, d := range rows {
		out = append(out, fleetindex.KeyOf(&d).String())
	}
	return out
}
