package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/rest"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
)

func newGetCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "get", Short: "Show the fleet from the hub's fleet index"}
	cmd.AddCommand(newGetDeploymentsCommand(g), newGetSessionJobsCommand(g), newGetSummaryCommand(g), newGetConfigCommand(g))
	return cmd
}

// fleetList is one `get` subcommand: a fleet API list as a table.
type fleetList struct {
	use, short string
	aliases    []string
	path       string
	what       string // the objects, for --flink-namespace's help
	headers    []string
	row        func(d fleetv1.Deployment, shard, last string) []string
}

func newGetDeploymentsCommand(g *globals) *cobra.Command {
	return newFleetListCommand(g, fleetList{
		use: "deployments", aliases: []string{"deployment", "flinkdeployments", "flinkdep"},
		short: "List the FlinkDeployments of every member (or one) from the hub's fleet index",
		path:  fleetv1.DeploymentsPath, what: "FlinkDeployments",
		headers: []string{"CLUSTER", "NAMESPACE", "NAME", "JOB STATUS", "LIFECYCLE STATE", "FLINK", "MODE", "SESSION JOBS", "SHARD", "OWNER", "LAST RECONCILE", "ERROR"},
		row: func(d fleetv1.Deployment, shard, last string) []string {
			jobs := ""
			if d.JobState == "" { // a session cluster
				jobs = strconv.Itoa(d.SessionJobs)
			}
			return []string{d.Cluster, d.Namespace, d.Name, d.JobState, d.LifecycleState, d.FlinkVersion, d.Mode, jobs, shard, d.Owner, last, d.ErrorLine()}
		},
	})
}

func newGetSessionJobsCommand(g *globals) *cobra.Command {
	return newFleetListCommand(g, fleetList{
		use: "sessionjobs", aliases: []string{"sessionjob", "flinksessionjobs"},
		short: "List the FlinkSessionJobs of every member (or one) from the hub's fleet index",
		path:  fleetv1.SessionJobsPath, what: "FlinkSessionJobs",
		headers: []string{"CLUSTER", "NAMESPACE", "NAME", "SESSION CLUSTER", "JOB STATUS", "LIFECYCLE STATE", "SHARD", "OWNER", "LAST RECONCILE", "ERROR"},
		row: func(d fleetv1.Deployment, shard, last string) []string {
			return []string{d.Cluster, d.Namespace, d.Name, d.SessionCluster, d.JobState, d.LifecycleState, shard, d.Owner, last, d.ErrorLine()}
		},
	})
}

// newGetConfigCommand is `get config <cluster>/<namespace>/<name>`: a
// FlinkDeployment's effective configuration and each key's source.
func newGetConfigCommand(g *globals) *cobra.Command {
	var src fleetSource
	cmd := &cobra.Command{
		Use:   "config <cluster>/<namespace>/<name>",
		Short: "Show a FlinkDeployment's effective Flink configuration and where each key comes from (resource, member default, fleet default)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			parts := strings.Split(args[0], "/")
			if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
				return fmt.Errorf("%q: name the FlinkDeployment as <cluster>/<namespace>/<name>", args[0])
			}
			path := fleetv1.ConfigPath + url.PathEscape(parts[0]) + "/" + url.PathEscape(parts[1]) + "/" + url.PathEscape(parts[2])
			var conf fleetv1.Configuration
			if err := g.fleetGet(cmd, src, path, &conf); err != nil {
				return err
			}
			if g.output != "table" {
				return printStructured(g.stdout, g.output, conf)
			}
			rows := make([][]string, 0, len(conf.Items))
			for _, s := range conf.Items {
				rows = append(rows, []string{s.Key, s.Value, s.Source})
			}
			return printTable(g.stdout, []string{"KEY", "VALUE", "SOURCE"}, rows)
		},
	}
	addFleetSourceFlags(cmd, &src)
	return cmd
}

// newFleetListCommand is the `get` subcommand of l.
func newFleetListCommand(g *globals, l fleetList) *cobra.Command {
	var (
		cluster, state, flinkNamespace string
		allClusters                    bool
		chunk                          int
		src                            fleetSource
	)
	cmd := &cobra.Command{
		Use:     l.use,
		Aliases: l.aliases,
		Short:   l.short,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			if allClusters && cluster != "" {
				return fmt.Errorf("--cluster and --all-clusters exclude each other")
			}
			q := url.Values{}
			for k, v := range map[string]string{"cluster": cluster, "state": state, "namespace": flinkNamespace} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if chunk < 0 || chunk > fleetv1.MaxLimit {
				return fmt.Errorf("--chunk-size: want 0 (one request) or 1 to %d", fleetv1.MaxLimit)
			}
			list, err := g.fleetPages(cmd, src, l.path, q, chunk)
			if err != nil {
				return err
			}
			for _, missing := range list.Incomplete {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: rows missing: %s\n", missing)
			}
			if g.output != "table" {
				return printStructured(g.stdout, g.output, list.Items)
			}
			rows := make([][]string, 0, len(list.Items))
			for _, d := range list.Items {
				shard, last := "", ""
				if d.Shard != nil {
					shard = strconv.Itoa(*d.Shard)
				}
				if d.LastReconcile != nil {
					last = duration.HumanDuration(time.Since(*d.LastReconcile))
				}
				rows = append(rows, l.row(d, shard, last))
			}
			return printTable(g.stdout, l.headers, rows)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cluster, "cluster", "", "only this member cluster")
	f.BoolVar(&allClusters, "all-clusters", false, "every member cluster (the default)")
	f.StringVar(&state, "state", "", "only this lifecycle state (e.g. STABLE, FAILED)")
	f.StringVar(&flinkNamespace, "flink-namespace", "", "only "+l.what+" of this namespace")
	f.IntVar(&chunk, "chunk-size", 500, "read the list in pages of this many rows (0: in one request)")
	addFleetSourceFlags(cmd, &src)
	return cmd
}

// fleetPages GETs a fleet API list page by page, chunk rows at a time (in
// one request when 0), and returns every page's rows and the replicas
// missing from any page.
func (g *globals) fleetPages(cmd *cobra.Command, src fleetSource, path string, q url.Values, chunk int) (fleetv1.DeploymentList, error) {
	var all fleetv1.DeploymentList
	if chunk > 0 {
		q.Set("limit", strconv.Itoa(chunk))
	}
	for {
		var page fleetv1.DeploymentList
		if err := g.fleetGet(cmd, src, path+"?"+q.Encode(), &page); err != nil {
			return all, err
		}
		all.Items = append(all.Items, page.Items...)
		for _, missing := range page.Incomplete {
			if !slices.Contains(all.Incomplete, missing) {
				all.Incomplete = append(all.Incomplete, missing)
			}
		}
		if page.Continue == "" {
			return all, nil
		}
		if len(page.Items) == 0 || page.Continue == q.Get("continue") {
			return all, fmt.Errorf("fleet API: a page without progress asks for another; stopped after %d rows", len(all.Items))
		}
		q.Set("continue", page.Continue)
	}
}

// addFleetSourceFlags adds the flags that say how to reach the fleet API.
func addFleetSourceFlags(cmd *cobra.Command, src *fleetSource) {
	f := cmd.Flags()
	f.StringVar(&src.url, "fleet-url", "", "base URL of the hub's fleet API, reached directly with the context's bearer token (default: through the hub apiserver's service proxy)")
	f.StringVar(&src.service, "fleet-service", "https:flink-hub:fleet", "[scheme:]hub Service:port name of the fleet API, for the service proxy")
	f.BoolVar(&src.insecure, "fleet-insecure-skip-tls-verify", false, "with --fleet-url, do not verify the fleet API's certificate (the hub's own is self-signed)")
}

// fleetSource says how to reach the fleet API.
type fleetSource struct {
	url      string // direct base URL; "" goes through the service proxy
	service  string // [scheme:]name:port of the hub Service, for the proxy
	insecure bool   // skip verifying the certificate of url
}

// fleetGet GETs a fleet API path (see fleetClient) and decodes the JSON
// answer.
func (g *globals) fleetGet(cmd *cobra.Command, src fleetSource, path string, into any) error {
	base, httpClient, err := g.fleetClient(src)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, base+path, nil)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("fleet API: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("fleet API: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return json.NewDecoder(resp.Body).Decode(into)
}

// fleetClient returns the base URL of the hub's fleet API server (the
// fleet API and the console) and a client that reaches it: directly at
// src.url, or through the hub apiserver's proxy to the hub Service, with
// the hub context's bearer token. The apiserver removes Authorization
// before proxying, so through the proxy the token also travels in
// fleetv1.TokenHeader.
func (g *globals) fleetClient(src fleetSource) (string, *http.Client, error) {
	cfg, err := g.restConfig(g.context)
	if err != nil {
		return "", nil, err
	}
	if cfg.BearerToken == "" && cfg.BearerTokenFile == "" && cfg.ExecProvider == nil && cfg.AuthProvider == nil {
		return "", nil, fmt.Errorf("fleet API: the hub context's user has no bearer token, and the fleet API authenticates callers by token " +
			"(the hub apiserver does not pass client certificates on); use a context with a token, e.g. from `kubectl create token`")
	}
	var base string
	if src.url != "" {
		// Only the token goes to the fleet API: not the hub's CA nor a
		// client certificate.
		cfg.TLSClientConfig = rest.TLSClientConfig{Insecure: src.insecure}
		base = strings.TrimSuffix(src.url, "/")
	} else {
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return tokenCopier{rt} })
		base = strings.TrimSuffix(cfg.Host, "/") + "/api/v1/namespaces/" + g.namespace + "/services/" + src.service + "/proxy"
	}
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return "", nil, err
	}
	return base, httpClient, nil
}

// tokenCopier copies the bearer token client-go's authentication (static,
// file or exec plugin) set into fleetv1.TokenHeader; it wraps the transport
// below that authentication, so it sees the header.
type tokenCopier struct{ next http.RoundTripper }

func (t tokenCopier) RoundTrip(r *http.Request) (*http.Response, error) {
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
		r = r.Clone(r.Context())
		r.Header.Set(fleetv1.TokenHeader, auth)
	}
	return t.next.RoundTrip(r)
}
