package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
)

// newConsoleCommand is `kubectl flinkhub console`: the hub's web console
// on a loopback address, reached through the hub apiserver's service proxy
// (or --fleet-url) with the user's own credentials.
func newConsoleCommand(g *globals) *cobra.Command {
	var (
		address string
		src     fleetSource
	)
	cmd := &cobra.Command{
		Use:   "console",
		Short: "Serve the hub's read-only web console on localhost, with your hub credentials",
		Long: "Serves the console of the hub (the fleet, members, shards, one FlinkDeployment's story and its traces)\n" +
			"on a loopback address. Each request goes to the hub with the hub context's bearer token, through the\n" +
			"hub apiserver's service proxy (or --fleet-url); only GET requests for the console are forwarded.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			base, hc, err := g.fleetClient(src)
			if err != nil {
				return err
			}
			h, err := consoleProxy(base, hc.Transport)
			if err != nil {
				return err
			}
			ln, err := listenLoopback(address)
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: sameHost(ln.Addr().String(), h), ReadHeaderTimeout: 10 * time.Second}
			fmt.Fprintf(g.stdout, "Console: http://%s%s (Ctrl-C stops)\n", ln.Addr(), fleetv1.ConsolePath)
			return serveUntilDone(cmd.Context(), srv, ln)
		},
	}
	cmd.Flags().StringVar(&address, "address", "127.0.0.1:8090", "loopback address to serve the console on (port 0 picks a free one)")
	addFleetSourceFlags(cmd, &src)
	return cmd
}

// listenLoopback listens on address, which must be a loopback address: the
// console carries the user's credentials to the hub.
func listenLoopback(address string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("--address %q: %w", address, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("--address %q: the console serves only on a loopback address (127.0.0.1, ::1 or localhost): it sends your credentials to the hub", address)
	}
	return net.Listen("tcp", address)
}

// consoleProxy forwards GET and HEAD requests under fleetv1.ConsolePath to base
// with rt (which adds the user's credentials); "/" leads to the console.
// The browser's own credentials and cookies are not passed on.
func consoleProxy(base string, rt http.RoundTripper) (http.Handler, error) {
	target, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = target.Host
			r.Out.Header.Del("Authorization")
			r.Out.Header.Del("Cookie")
		},
		Transport: rt,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "the hub did not answer: "+err.Error(), http.StatusBadGateway)
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/":
			http.Redirect(w, r, fleetv1.ConsolePath, http.StatusFound)
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			http.Error(w, "the console is read-only", http.StatusMethodNotAllowed)
		case !strings.HasPrefix(r.URL.Path, fleetv1.ConsolePath):
			http.NotFound(w, r)
		default:
			proxy.ServeHTTP(w, r)
		}
	}), nil
}

// sameHost refuses requests whose Host is not the console's own address
// (or localhost with its port), so a web page that rebinds its DNS name
// to 127.0.0.1 cannot read the console with the user's credentials.
func sameHost(addr string, next http.Handler) http.Handler {
	_, port, _ := net.SplitHostPort(addr)
	allowed := map[string]bool{addr: true, "localhost:" + port: true, "127.0.0.1:" + port: true, "[::1]:" + port: true}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowed[r.Host] {
			http.Error(w, "unexpected Host "+r.Host, http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// serveUntilDone serves srv on ln until ctx ends.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener) error {
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
