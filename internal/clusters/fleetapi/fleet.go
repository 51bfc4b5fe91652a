package fleetapi

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
)

// Peer is another hub replica's fleet API.
type Peer struct {
	// ID is the replica identity.
	ID string
	// Address is host:port of its fleet API; "" when it advertises none,
	// which the answer reports as missing rows.
	Address string
}

// PeerSource lists the live replicas, other than this one, that serve the
// members this one does not (with a member spread each replica indexes
// only the members it serves).
type PeerSource func() []Peer

// Scope and ScopeLocal: a request with ?scope=local is answered from the
// replica's own index, without asking its peers (what peers ask each
// other).
const (
	Scope      = "scope"
	ScopeLocal = "local"
)

// Bounds of a peer's answer.
const (
	peerTimeout = 5 * time.Second
	peerMaxBody = 64 << 20
)

// Fleet lists the fleet: this replica's index and, with Peers, what each
// peer's index holds, merged (a member served by several replicas is
// listed once). A peer that does not answer is named in the answer's
// Incomplete instead of failing it.
//
// Peers are asked over HTTPS with the caller's own bearer token, which they
// review as this replica did; their certificates are self-signed, made at
// start, and not verified: their addresses come from the peer Leases of
// the hub namespace, which only the hub and its operators may write.
type Fleet struct {
	Index *fleetindex.Index
	Peers PeerSource

	once   sync.Once
	client *http.Client
}

func (f *Fleet) httpClient() *http.Client {
	f.once.Do(func() {
		f.client = &http.Client{
			Timeout: peerTimeout,
			Transport: &http.Transport{
				TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, // self-signed peer certificates
				Proxy:           nil,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	})
	return f.client
}

// Deployments lists the rows of kind (fleetv1.KindFlinkDeployment or
// KindFlinkSessionJob) passing filter, asking the peers with token unless
// local.
func (f *Fleet) Deployments(ctx context.Context, token string, filter fleetindex.Filter, local bool) (rows []fleetv1.Deployment, incomplete []string) {
	rows, _, incomplete = f.page(ctx, token, filter, pageQuery{}, local)
	return rows, incomplete
}

// First lists the first limit rows of kind passing filter, as Deployments,
// and whether more follow.
func (f *Fleet) First(ctx context.Context, token string, filter fleetindex.Filter, limit int) (rows []fleetv1.Deployment, more bool, incomplete []string) {
	return f.page(ctx, token, filter, pageQuery{Limit: limit}, false)
}

// page is Deployments of one page: the rows after p.After, at most
// p.Limit, and whether more follow. Each source (the index, every peer)
// answers its first p.Limit rows after p.After; together they hold the
// fleet's, and a source that has more answered p.Limit rows, so more
// follow exactly when the merged rows exceed the page or a source said
// it has more.
func (f *Fleet) page(ctx context.Context, token string, filter fleetindex.Filter, p pageQuery, local bool) (rows []fleetv1.Deployment, more bool, incomplete []string) {
	rows, more = f.Index.Page(filter, p.After, p.Limit)
	if local || f.Peers == nil {
		return rows, more, nil
	}
	path := fleetv1.DeploymentsPath
	if filter.Kind == fleetv1.KindFlinkSessionJob {
		path = fleetv1.SessionJobsPath
	}
	q := url.Values{Scope: {ScopeLocal}}
	filterValues(filter, q)
	p.values(q)
	answers, incomplete := askPeers[DeploymentList](ctx, f, token, path+"?"+q.Encode())
	seen := map[string]bool{}
	for _, d := range rows {
		seen[d.Kind+" "+fleetindex.KeyOf(&d).String()] = true
	}
	for _, a := range answers {
		more = more || a.Continue != ""
		for _, d := range a.Items {
			// A peer's rows before the page, or that do not pass the
			// filter (one that ignores ?continue= or a filter newer than
			// it), are not the page's.
			key := fleetindex.KeyOf(&d)
			if (p.After != nil && fleetindex.CompareKeys(key, *p.After) <= 0) || !filter.Match(&d) {
				continue
			}
			if id := d.Kind + " " + key.String(); !seen[id] {
				seen[id] = true
				rows = append(rows, d)
			}
		}
	}
	slices.SortFunc(rows, func(a, b fleetv1.Deployment) int {
		return fleetindex.CompareKeys(fleetindex.KeyOf(&a), fleetindex.KeyOf(&b))
	})
	if p.Limit > 0 && len(rows) > p.Limit {
		rows, more = rows[:p.Limit], true
	}
	return rows, more, incomplete
}

// Clusters lists the members. Every replica knows every member (from the
// MemberClusters); the counts of a member come from the replicas that
// serve it, so the largest count is kept.
func (f *Fleet) Clusters(ctx context.Context, token string, local bool) (clusters []fleetv1.Cluster, incomplete []string) {
	clusters = f.Index.Clusters()
	if local || f.Peers == nil {
		return clusters, nil
	}
	answers, incomplete := askPeers[ClusterList](ctx, f, token, fleetv1.ClustersPath+"?"+url.Values{Scope: {ScopeLocal}}.Encode())
	for _, a := range answers {
		clusters = mergeByName(clusters, a.Items, func(c fleetv1.Cluster) string { return c.Name }, func(own *fleetv1.Cluster, peer fleetv1.Cluster) {
			own.Deployments = max(own.Deployments, peer.Deployments)
		})
	}
	return clusters, incomplete
}

// Summary counts the fleet's rows per member and state, and those passing
// filter (either kind), asking the peers with token unless local. A member
// several replicas serve is counted by the one that holds the most of its
// rows (they hold the same once their caches are filled).
func (f *Fleet) Summary(ctx context.Context, token string, filter fleetindex.Filter, local bool) (clusters []fleetv1.ClusterSummary, incomplete []string) {
	clusters = f.Index.Summary(filter)
	if local || f.Peers == nil {
		return clusters, nil
	}
	q := url.Values{Scope: {ScopeLocal}}
	filterValues(filter, q)
	answers, incomplete := askPeers[fleetv1.Summary](ctx, f, token, fleetv1.SummaryPath+"?"+q.Encode())
	for _, a := range answers {
		clusters = mergeByName(clusters, a.Clusters, func(c fleetv1.ClusterSummary) string { return c.Cluster }, func(own *fleetv1.ClusterSummary, peer fleetv1.ClusterSummary) {
			if peer.Total > own.Total {
				*own = peer
			}
		})
	}
	return clusters, incomplete
}

// mergeByName adds a peer's entries to own, sorted by name: an entry of a
// name own lacks is appended, one it has is merged into its own by merge.
func mergeByName[T any](own, peer []T, name func(T) string, merge func(own *T, peer T)) []T {
	at := map[string]int{}
	for i, e := range own {
		at[name(e)] = i
	}
	for _, e := range peer {
		if i, ok := at[name(e)]; ok {
			merge(&own[i], e)
			continue
		}
		at[name(e)] = len(own)
		own = append(own, e)
	}
	slices.SortFunc(own, func(a, b T) int { return cmp.Compare(name(a), name(b)) })
	return own
}

// askPeers GETs pathAndQuery from every peer at once and returns the
// answers, and the peers that gave none, each with why.
func askPeers[T any](ctx context.Context, f *Fleet, token, pathAndQuery string) ([]T, []string) {
	peers := f.Peers()
	answers := make([]*T, len(peers))
	errs := make([]error, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out T
			if errs[i] = f.get(ctx, p, token, pathAndQuery, &out); errs[i] == nil {
				answers[i] = &out
			}
		}()
	}
	wg.Wait()
	var got []T
	var missing []string
	for i, p := range peers {
		if answers[i] != nil {
			got = append(got, *answers[i])
		} else {
			missing = append(missing, fmt.Sprintf("replica %s: %v", p.ID, errs[i]))
		}
	}
	return got, missing
}

// get reads one peer's answer, bounded in time and size.
func (f *Fleet) get(ctx context.Context, p Peer, token, pathAndQuery string, into any) error {
	if p.Address == "" {
		return fmt.Errorf("advertises no fleet API address (--fleet-advertise-address, or POD_IP)")
	}
	ctx, cancel := context.WithTimeout(ctx, peerTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+p.Address+pathAndQuery, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := f.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("no answer") // the error would name the URL, not the token; keep it short
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("answered %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, peerMaxBody+1))
	if err != nil {
		return fmt.Errorf("answer cut: %v", err)
	}
	if len(body) > peerMaxBody {
		return fmt.Errorf("answer over %d bytes", peerMaxBody)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("answer is not the fleet API's JSON")
	}
	return nil
}
