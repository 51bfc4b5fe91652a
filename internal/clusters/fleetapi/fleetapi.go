// Package fleetapi serves the fleet index read-only over HTTPS as JSON:
//
//	GET /fleet/v1/deployments?cluster=&namespace=&name=&state=&anyState=&q=&owner=&limit=&continue=
//	GET /fleet/v1/sessionjobs?(the same)
//	GET /fleet/v1/summary?(the same filters)
//	GET /fleet/v1/clusters
//	GET /fleet/v1/config/{cluster}/{namespace}/{name}
//
// to callers the hub apiserver authenticates and authorizes (WithAuth).
package fleetapi

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"time"

	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
)

// DeploymentList is the answer of fleetv1.DeploymentsPath.
type DeploymentList = fleetv1.DeploymentList

// ClusterList is the answer of fleetv1.ClustersPath.
type ClusterList = fleetv1.ClusterList

// Configs gives a FlinkDeployment's effective configuration; found is
// false when the member or the FlinkDeployment is unknown.
type Configs interface {
	Configuration(ctx context.Context, cluster, namespace, name string) (conf fleetv1.Configuration, found bool, err error)
}

// Handler returns the read-only HTTP API of fleet, unauthenticated: Server
// wraps it in WithAuth. configs serves ConfigPath; nil leaves it out.
func Handler(fleet *Fleet, configs Configs) http.Handler {
	mux := http.NewServeMux()
	for path, kind := range map[string]string{fleetv1.DeploymentsPath: fleetv1.KindFlinkDeployment, fleetv1.SessionJobsPath: fleetv1.KindFlinkSessionJob} {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			page, err := parsePage(q)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			filter, err := parseFilter(q, kind)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			items, more, incomplete := fleet.page(r.Context(), Bearer(r), filter, page, q.Get(Scope) == ScopeLocal)
			list := DeploymentList{Items: nonNil(items), Incomplete: incomplete}
			if more && len(items) > 0 {
				list.Continue = encodeContinue(fleetindex.KeyOf(&items[len(items)-1]))
			}
			writeJSON(w, list)
		})
	}
	mux.HandleFunc("GET "+fleetv1.SummaryPath, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		filter, err := parseFilter(q, "")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		clusters, incomplete := fleet.Summary(r.Context(), Bearer(r), filter, q.Get(Scope) == ScopeLocal)
		writeJSON(w, fleetv1.Summary{Clusters: nonNil(clusters), Incomplete: incomplete})
	})
	mux.HandleFunc("GET "+fleetv1.ClustersPath, func(w http.ResponseWriter, r *http.Request) {
		items, incomplete := fleet.Clusters(r.Context(), Bearer(r), r.URL.Query().Get(Scope) == ScopeLocal)
		writeJSON(w, ClusterList{Items: nonNil(items), Incomplete: incomplete})
	})
	if configs != nil {
		mux.HandleFunc("GET "+fleetv1.ConfigPath+"{cluster}/{namespace}/{name}", func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
			defer cancel()
			conf, found, err := configs.Configuration(ctx, r.PathValue("cluster"), r.PathValue("namespace"), r.PathValue("name"))
			switch {
			case errors.Is(err, ErrNotReady):
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
			case err != nil:
				http.Error(w, "cannot read the FlinkDeployment from its member", http.StatusBadGateway)
			case !found:
				http.Error(w, "no such member cluster or FlinkDeployment", http.StatusNotFound)
			default:
				writeJSON(w, conf)
			}
		})
	}
	return mux
}

// ErrNotReady, wrapped in a Configurations error, says the replica cannot
// answer yet (it has just started): the API answers 503.
var ErrNotReady = errors.New("the replica is not ready to answer yet")

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Server serves Handler behind WithAuth over TLS with a self-signed
// certificate made at start (the hub apiserver's service proxy does not
// verify it); it is a manager.Runnable.
type Server struct {
	addr    string
	handler http.Handler
	bound   chan string
	limits  serverLimits
}

// serverLimits bound what a caller, authenticated or not, can make the
// server hold: how long a connection may take to send a request's headers
// (the TLS handshake included) and the whole request, to take an answer,
// to sit idle between requests, how large the headers may be (the bearer
// token is one), and how many connections may be open at once.
type serverLimits struct {
	readHeader, read, write, idle time.Duration
	maxHeaderBytes, maxConns      int
}

// defaultLimits are the production limits: every answer is made within
// seconds (peers 5 s, a member's configuration 10 s), a bearer token is a
// few KiB, and the callers are the hub apiserver's service proxy, the
// peer replicas and the odd direct client, which keep few connections.
var defaultLimits = serverLimits{
	readHeader: 10 * time.Second, read: 30 * time.Second, write: time.Minute, idle: 90 * time.Second,
	maxHeaderBytes: 64 << 10, maxConns: 512,
}

// NewServer returns a Server of handler (Handler, and the console) on addr
// (":0" picks a free port) that authenticates and authorizes callers
// against the hub apiserver of hubCfg, whose hub namespace is namespace,
// reviewing at most reviewsPerSecond tokens it remembers nothing of a
// second (WithAuth).
func NewServer(addr string, handler http.Handler, hubCfg *rest.Config, namespace string, reviewsPerSecond float64) (*Server, error) {
	h, err := WithAuth(hubCfg, namespace, reviewsPerSecond, handler)
	if err != nil {
		return nil, err
	}
	return &Server{addr: addr, handler: h, bound: make(chan string, 1), limits: defaultLimits}, nil
}

// Addr waits until the server listens and returns its address.
func (s *Server) Addr(ctx context.Context) (string, error) {
	select {
	case a := <-s.bound:
		s.bound <- a
		return a, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every
// replica serves its index.
func (s *Server) NeedLeaderElection() bool { return false }

// Start serves until ctx ends.
func (s *Server) Start(ctx context.Context) error {
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey("flink-hub-fleet", nil, nil)
	if err != nil {
		return err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	s.bound <- ln.Addr().String()
	ln = tls.NewListener(&connLimit{Listener: ln, max: s.limits.maxConns}, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	l := s.limits
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: l.readHeader, ReadTimeout: l.read, WriteTimeout: l.write,
		IdleTimeout: l.idle, MaxHeaderBytes: l.maxHeaderBytes}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
