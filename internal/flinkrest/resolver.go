package flinkrest

import (
	"flag"
	"fmt"
	"net/http"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// Transport kinds: how the hub reaches a JobManager.
const (
	// TransportProxy goes through the member apiserver's service proxy.
	TransportProxy = "proxy"
	// TransportURL renders a base URL from the hub's URL template.
	TransportURL = "url"
)

// Options are the hub-wide Flink REST settings.
type Options struct {
	// Transport is the default transport, TransportProxy or TransportURL.
	Transport string
	// URLTemplate is the default base URL template of the url transport.
	URLTemplate string
	// Timeout bounds every Flink REST call.
	Timeout time.Duration
	// UploadMinRate is the slowest jar upload, in bytes a second, given
	// time: an upload's budget is Timeout plus the jar at this rate.
	UploadMinRate int64
}

// BindFlags registers the options as flags, with their defaults.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Transport, "flink-rest-transport", TransportProxy,
		"How to reach JobManagers: 'proxy' (member apiserver service proxy) or 'url' (--flink-rest-url-template).")
	fs.StringVar(&o.URLTemplate, "flink-rest-url-template", "http://{{.Name}}-rest.{{.Namespace}}.svc:8081",
		"Base URL of the url transport; "+PlaceholderCluster+", "+PlaceholderNamespace+" and "+PlaceholderName+" are replaced by the path-escaped values, nothing else is.")
	fs.DurationVar(&o.Timeout, "flink-rest-timeout", DefaultTimeout, "Timeout of each Flink REST call; a jar upload in which nothing moves for this long plus 4 MiB at --jar-upload-min-rate fails as stalled.")
	fs.Int64Var(&o.UploadMinRate, "jar-upload-min-rate", MinUploadRate,
		"Slowest jar upload to a session cluster, in bytes a second, given time: an upload may take --flink-rest-timeout plus the jar's size at this rate (not cut by --member-request-timeout or --reconcile-timeout).")
}

// ClientOptions are the client settings the options hold: the timeout
// and the upload rate.
func (o Options) ClientOptions() []Option {
	return []Option{WithTimeout(o.Timeout), WithUploadRate(o.UploadMinRate)}
}

// Validate checks what NewResolver would refuse, and that the timeout is
// positive.
func (o Options) Validate() error {
	if o.Timeout <= 0 {
		return fmt.Errorf("--flink-rest-timeout must be positive, not %s: every Flink REST call would have expired before it started", o.Timeout)
	}
	if o.UploadMinRate != 0 && o.UploadMinRate < MinUploadRateFloor {
		return fmt.Errorf("--jar-upload-min-rate must be at least %d bytes a second, not %d: the budget of a %d MiB upload would pass %s",
			MinUploadRateFloor, o.UploadMinRate, MaxUploadBytes>>20, UploadBudget(MaxUploadBytes, o.Timeout, MinUploadRateFloor))
	}
	_, err := NewResolver(o)
	if err != nil {
		return fmt.Errorf("--flink-rest-*: %w", err)
	}
	return nil
}

// Resolver builds Clients for FlinkDeployments from the hub's Options
// alone: nothing a FlinkDeployment says chooses where the hub connects. It
// keeps one proxy transport per
// member rest.Config, so connections are reused across reconciles.
type Resolver struct {
	opts Options
	tmpl *URLTemplate

	// urlTransport carries the url transport's requests of every target.
	urlTransport http.RoundTripper

	mu sync.Mutex
	// transports has one proxy transport per member cluster, for the
	// member's current rest.Config: a re-engaged member's new config
	// replaces the old transport, and Forget drops a removed member's.
	transports map[string]memberTransport
}

// urlIdleConnsPerHost is how many idle connections the url transport
// keeps per host. Behind an ingress every JobManager has the same host, and
// Go's default of 2 would open a new connection for most concurrent calls.
const urlIdleConnsPerHost = 64

// newURLTransport is http.DefaultTransport with room for concurrent calls
// to one host.
func newURLTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = urlIdleConnsPerHost
	t.MaxIdleConns = 4 * urlIdleConnsPerHost
	return t
}

// NewResolver checks the options and returns a Resolver.
func NewResolver(o Options) (*Resolver, error) {
	if o.Transport == "" {
		o.Transport = TransportProxy
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	r := &Resolver{opts: o, transports: map[string]memberTransport{}, urlTransport: newURLTransport()}
	switch o.Transport {
	case TransportProxy:
	case TransportURL:
	default:
		return nil, fmt.Errorf("flink rest transport %q: want %q or %q", o.Transport, TransportProxy, TransportURL)
	}
	if o.URLTemplate != "" {
		t, err := ParseURLTemplate(o.URLTemplate)
		if err != nil {
			return nil, err
		}
		r.tmpl = t
	} else if o.Transport == TransportURL {
		return nil, fmt.Errorf("flink rest transport %q needs a URL template", TransportURL)
	}
	return r, nil
}

// Endpoint returns where target's JobManager answers.
func (r *Resolver) Endpoint(target Target, member *rest.Config) (Endpoint, error) {
	if r.opts.Transport == TransportURL {
		base, err := r.tmpl.URL(target)
		if err != nil {
			return Endpoint{}, err
		}
		return Endpoint{BaseURL: base, Transport: r.urlTransport}, nil
	}
	if member == nil {
		return Endpoint{}, fmt.Errorf("flink rest proxy: no rest.Config for cluster %q", target.Cluster)
	}
	base, err := ProxyURL(member.Host, target)
	if err != nil {
		return Endpoint{}, err
	}
	rt, err := r.proxyTransport(target.Cluster, member)
	if err != nil {
		return Endpoint{}, fmt.Errorf("flink rest proxy transport for cluster %q: %w", target.Cluster, err)
	}
	return Endpoint{BaseURL: base, Transport: rt}, nil
}

// Client returns a Client for target's JobManager.
func (r *Resolver) Client(target Target, member *rest.Config) (Client, error) {
	ep, err := r.Endpoint(target, member)
	if err != nil {
		return nil, err
	}
	return New(ep, r.opts.ClientOptions()...)
}

// memberTransport is the proxy transport built for one rest.Config.
type memberTransport struct {
	config *rest.Config
	rt     http.RoundTripper
}

// Forget drops the cached transport of a member that went away (the
// provider calls it when it disengages the member) and closes its idle
// connections.
func (r *Resolver) Forget(cluster string) {
	r.mu.Lock()
	t, ok := r.transports[cluster]
	delete(r.transports, cluster)
	r.mu.Unlock()
	if ok {
		utilnet.CloseIdleConnectionsFor(t.rt)
	}
}

// cachedTransports is how many members have a cached transport.
func (r *Resolver) cachedTransports() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.transports)
}

func (r *Resolver) proxyTransport(cluster string, member *rest.Config) (http.RoundTripper, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.transports[cluster]
	if ok && old.config == member {
		return old.rt, nil
	}
	rt, err := rest.TransportFor(member)
	if err != nil {
		return nil, err
	}
	r.transports[cluster] = memberTransport{config: member, rt: rt}
	if ok {
		utilnet.CloseIdleConnectionsFor(old.rt)
	}
	return rt, nil
}
