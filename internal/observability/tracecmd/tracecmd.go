// Package tracecmd is `kubectl flinkhub trace`: it prints the latest
// reconcile traces of one FlinkDeployment from a Jaeger query endpoint as
// waterfalls.
package tracecmd

import (
	"fmt"
	"github.com/flink-hub/flink-hub/internal/observability/traceattr"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flink-hub/flink-hub/internal/observability/jaegerquery"
	"github.com/flink-hub/flink-hub/internal/observability/waterfall"
)

// JaegerURLEnv overrides the default Jaeger query address.
const JaegerURLEnv = "FLINKHUB_JAEGER_URL"

// NewCommand returns the trace command.
func NewCommand() *cobra.Command {
	var (
		jaegerURL string
		service   string
		limit     int
		lookback  time.Duration
	)
	defaultURL := os.Getenv(JaegerURLEnv)
	if defaultURL == "" {
		defaultURL = "http://localhost:16686"
	}
	cmd := &cobra.Command{
		Use:   "trace <cluster>/<namespace>/<name>",
		Short: "Print the latest reconcile traces of a FlinkDeployment as a waterfall",
		Long: "Fetches the latest reconcile traces of one FlinkDeployment from a Jaeger query endpoint\n" +
			"and prints each as a span tree with offsets, durations, status and key attributes.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cluster, namespace, name, err := parseKey(args[0])
			if err != nil {
				return err
			}
			q := &jaegerquery.Client{BaseURL: jaegerURL}
			traces, err := q.Find(cmd.Context(), jaegerquery.Query{
				Service:   service,
				Operation: "Reconcile FlinkDeployment",
				Tags: map[string]string{
					string(traceattr.Cluster):   cluster,
					string(traceattr.Namespace): namespace,
					string(traceattr.Name):      name,
				},
				Limit:    limit,
				Lookback: lookback,
			})
			if err != nil {
				return err
			}
			if len(traces) == 0 {
				return fmt.Errorf("no reconcile traces of %s in the last %s at %s", args[0], lookback, jaegerURL)
			}
			for i, t := range traces {
				if i > 0 {
					fmt.Fprintln(cmd.OutOrStdout())
				}
				if err := waterfall.Render(cmd.OutOrStdout(), t); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&jaegerURL, "jaeger-url", defaultURL, "Jaeger query API address (env "+JaegerURLEnv+")")
	cmd.Flags().StringVar(&service, "service", "flink-hub", "service name the hub reports spans as")
	cmd.Flags().IntVar(&limit, "limit", 1, "number of latest traces to print")
	cmd.Flags().DurationVar(&lookback, "lookback", time.Hour, "how far back to search")
	return cmd
}

// parseKey splits "cluster/namespace/name".
func parseKey(key string) (cluster, namespace, name string, err error) {
	parts := strings.Split(key, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", fmt.Errorf("%q is not <cluster>/<namespace>/<name>", key)
	}
	return parts[0], parts[1], parts[2], nil
}
