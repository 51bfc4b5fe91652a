// Package console is the hub's read-only web console: the fleet table with
// live updates, the member clusters, the shards, one FlinkDeployment's or
// FlinkSessionJob's story (spec, status, events, snapshots, reconcile
// traces) and one trace as a waterfall.
//
// Pages are rendered on the server with html/template (which escapes all
// tenant text); htmx polls the fleet table's fragment; Pico CSS styles the
// markup. Both are embedded, so the console needs nothing at run time and
// works offline. Every path is under Prefix and every link is absolute, so
// the pages work wherever Prefix is served: by the hub behind the fleet
// API's authentication, or by `kubectl flinkhub console` on loopback.
// No page writes anything, and no page runs script but the embedded htmx
// and console.js (which holds the fleet table's refresh while the reader
// selects text in it): the Content-Security-Policy allows only the
// console's own assets.
package console

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
	"github.com/flink-hub/flink-hub/internal/observability/jaegerquery"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
)

// Prefix is the path the console is served under.
const Prefix = fleetv1.ConsolePath

// RefreshInterval is how often an open fleet page asks for its rows.
const RefreshInterval = time.Second

//go:embed assets templates
var files embed.FS

// Members reads what only a member has: a resource itself, its events and
// its snapshots.
type Members interface {
	// Resource returns one FlinkDeployment or FlinkSessionJob (kind is
	// fleetv1.KindFlinkDeployment or KindFlinkSessionJob); found is false
	// when the member or the resource is unknown; a *Refused error says
	// why the hub may not read it.
	Resource(ctx context.Context, kind, cluster, namespace, name string) (r Resource, found bool, err error)
}

// Resource is what a member tells about one FlinkDeployment or
// FlinkSessionJob.
type Resource struct {
	// Spec and Status are YAML; the values of sensitive configuration keys
	// and environment variables are masked.
	Spec, Status string
	// Events are the resource's events, newest first.
	Events []Event
	// EventsError says why the events could not be read; "" when they were.
	EventsError string
	// Snapshots are the FlinkStateSnapshots of the resource, newest first.
	Snapshots []Snapshot
	// SnapshotsError says why the snapshots could not be read; "" when
	// they were.
	SnapshotsError string
}

// Refused is an error of Members.Resource saying why the hub may not read
// the resource's kind in its member (the member's registration does not
// allow it): the page shows Reason as it is.
type Refused struct {
	// Reason says what the hub may not read and how to allow it.
	Reason string
}

// Error is the reason.
func (e *Refused) Error() string { return e.Reason }

// Event is one Kubernetes event of a resource.
type Event struct {
	Time    time.Time
	Type    string
	Reason  string
	Message string
	Count   int32
}

// Snapshot is one FlinkStateSnapshot: a savepoint or a checkpoint.
type Snapshot struct {
	Name, Type, State, Path, Error string
	// Trigger and Result are RFC 3339 times, "" while unknown.
	Trigger, Result string
}

// Options are what the console reads.
type Options struct {
	// Fleet lists the fleet (required): this replica's index and its
	// peers', asked with the viewer's own token.
	Fleet *fleetapi.Fleet
	// Members reads resources from their members; nil leaves resource
	// pages with the index's row only.
	Members Members
	// MemberClusters lists the hub's MemberClusters; nil leaves their
	// conditions out.
	MemberClusters func(ctx context.Context) ([]hubv1alpha1.MemberCluster, error)
	// Shards reads the shard Leases; nil leaves the shards page empty.
	Shards func(ctx context.Context) (shardlease.Table, error)
	// Traces reads reconcile traces; nil says no trace backend is set.
	Traces *jaegerquery.Client
	// Service is the service name the hub's spans carry ("flink-hub").
	Service string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// console serves the pages.
type console struct {
	opts  Options
	pages map[string]*template.Template
}

// New returns the console's handler; it serves only GET and HEAD under
// Prefix.
func New(opts Options) (http.Handler, error) {
	if opts.Service == "" {
		opts.Service = "flink-hub"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &console{opts: opts, pages: map[string]*template.Template{}}
	for _, page := range []string{"fleet", "members", "shards", "resource", "trace", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/fragments.html", "templates/"+page+".html")
		if err != nil {
			return nil, err
		}
		c.pages[page] = t
	}
	assets, err := fs.Sub(files, "assets")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+Prefix+"assets/", http.StripPrefix(Prefix+"assets/", immutable(http.FileServerFS(assets))))
	mux.HandleFunc("GET "+Prefix+"{$}", c.fleet)
	mux.HandleFunc("GET "+Prefix+"fleet/rows", c.fleetRows)
	mux.HandleFunc("GET "+Prefix+"members", c.members)
	mux.HandleFunc("GET "+Prefix+"shards", c.shards)
	mux.HandleFunc("GET "+Prefix+"clusters/{cluster}/namespaces/{namespace}/{resource}/{name}", c.resource)
	mux.HandleFunc("GET "+Prefix+"traces/{id}", c.trace)
	return secured(mux), nil
}

// secured sets the headers every answer carries: only the console's own
// scripts, styles and images; no framing; no caching of pages (they show
// the fleet as it is).
func secured(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if h.Get("Cache-Control") == "" {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// assetVersions are the embedded assets' versions, by path under assets/:
// the first 12 hex digits of their content's SHA-256.
var assetVersions = sync.OnceValues(func() (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(files, "assets", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		out[strings.TrimPrefix(path, "assets/")] = hex.EncodeToString(sum[:6])
		return nil
	})
	return out, err
})

// assetPath is the address of the embedded asset name (a path under
// assets/) with its version in the query. Browsers keep an asset a day
// (immutable); an upgrade that changes one changes its address, so a
// cached copy is never used with pages it was not made for. An unknown
// name fails the page.
func assetPath(name string) (string, error) {
	versions, err := assetVersions()
	if err != nil {
		return "", err
	}
	v, ok := versions[name]
	if !ok {
		return "", fmt.Errorf("no console asset %q", name)
	}
	return Prefix + "assets/" + name + "?v=" + v, nil
}

// immutable lets browsers keep the embedded assets for a day.
func immutable(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
		next.ServeHTTP(w, r)
	})
}

// render writes page with data, or a plain error if the template fails.
func (c *console) render(w http.ResponseWriter, status int, page string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.pages[page].Execute(w, data); err != nil {
		// The status is sent; the page ends where the template failed.
		_, _ = w.Write([]byte("\n<p>the console could not render this page</p>"))
	}
}

// fail renders the error page.
func (c *console) fail(w http.ResponseWriter, status int, title, message string) {
	c.render(w, status, "error", c.page("", title, message))
}

// rowsOf lists every FlinkDeployment and FlinkSessionJob of the fleet as
// the viewer of r may see them, and the replicas whose rows are missing:
// for the shards page, which is not refreshed (the fleet page reads a
// summary and a page of rows instead).
func (c *console) rowsOf(r *http.Request) ([]fleetv1.Deployment, []string) {
	token := fleetapi.Bearer(r)
	deployments, missing := c.opts.Fleet.Deployments(r.Context(), token, fleetindex.Filter{Kind: fleetv1.KindFlinkDeployment}, false)
	jobs, missingJobs := c.opts.Fleet.Deployments(r.Context(), token, fleetindex.Filter{Kind: fleetv1.KindFlinkSessionJob}, false)
	return append(deployments, jobs...), append(missing, missingJobs...)
}
