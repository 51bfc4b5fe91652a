package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/rest"

	"github.com/flink-hub/flink-hub/clusters/fleetapi"
)

func newGetCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "get", Short: "Show the fleet from the hub's fleet index"}
	cmd.AddCommand(newGetDeploymentsCommand(g))
	return cmd
}

func newGetDeploymentsCommand(g *globals) *cobra.Command {
	var (
		cluster, state, flinkNamespace string
		allClusters                    bool
		fleetURL, fleetService         string
	)
	cmd := &cobra.Command{
		Use:     "deployments",
		Aliases: []string{"deployment", "flinkdeployments", "flinkdep"},
		Short:   "List the FlinkDeployments of every member (or one) from the hub's fleet index",
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
			var list fleetapi.DeploymentList
			if err := g.fleetGet(cmd, fleetURL, fleetService, "/fleet/v1/deployments?"+q.Encode(), &list); err != nil {
				return err
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
				rows = append(rows, []string{d.Cluster, d.Namespace, d.Name, d.JobState, d.LifecycleState, d.FlinkVersion, d.Mode, shard, d.Owner, last, d.ErrorLine()})
			}
			return printTable(g.stdout, []string{"CLUSTER", "NAMESPACE", "NAME", "JOB STATUS", "LIFECYCLE STATE", "FLINK", "MODE", "SHARD", "OWNER", "LAST RECONCILE", "ERROR"}, rows)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cluster, "cluster", "", "only this member cluster")
	f.BoolVar(&allClusters, "all-clusters", false, "every member cluster (the default)")
	f.StringVar(&state, "state", "", "only this lifecycle state (e.g. STABLE, FAILED)")
	f.StringVar(&flinkNamespace, "flink-namespace", "", "only FlinkDeployments of this namespace")
	f.StringVar(&fleetURL, "fleet-url", "", "base URL of the hub's fleet API (default: through the hub apiserver's service proxy)")
	f.StringVar(&fleetService, "fleet-service", "flink-hub:fleet", "hub Service and port name of the fleet API, for the service proxy")
	return cmd
}

// fleetGet GETs a fleet API path, directly from fleetURL or through the hub
// apiserver's proxy to the hub Service, and decodes the JSON answer.
func (g *globals) fleetGet(cmd *cobra.Command, fleetURL, service, path string, into any) error {
	var (
		httpClient *http.Client
		base       string
	)
	if fleetURL != "" {
		httpClient, base = http.DefaultClient, strings.TrimSuffix(fleetURL, "/")
	} else {
		_, cfg, err := g.hubClient()
		if err != nil {
			return err
		}
		if httpClient, err = rest.HTTPClientFor(cfg); err != nil {
			return err
		}
		base = strings.TrimSuffix(cfg.Host, "/") + "/api/v1/namespaces/" + g.namespace + "/services/" + service + "/proxy"
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
