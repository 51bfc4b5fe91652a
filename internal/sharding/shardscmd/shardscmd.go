// Package shardscmd is the `kubectl flinkhub shards` command: which replica
// holds each shard, and how many keys it has.
package shardscmd

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
)

// ConfigFunc returns the hub's client config and the hub namespace.
type ConfigFunc func() (*rest.Config, string, error)

// NewCommand returns the `shards` command; config is called when it runs.
func NewCommand(config ConfigFunc) *cobra.Command {
	byReplica := false
	cmd := &cobra.Command{
		Use:   "shards",
		Short: "Show which hub replica holds each shard and how many FlinkDeployments it has",
		Long: "Reads the shard fence and peer Leases in the hub namespace and prints shard -> replica -> keys.\n" +
			"KEYS is the owner's count of cached FlinkDeployments in the shard; '-' when unknown.\n" +
			"With --by-replica, HANDOFF shows a replica stopping ('leaving': it works its shards until the\n" +
			"replicas taking them are ready) and, with a member spread, the shards a replica is ready to take.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, ns, err := config()
			if err != nil {
				return err
			}
			c, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				return err
			}
			t, err := shardlease.ReadTable(cmd.Context(), c, ns)
			if err != nil {
				return fmt.Errorf("read shard leases in namespace %s: %w", ns, err)
			}
			if len(t.Rows) == 0 {
				return fmt.Errorf("no shard leases in namespace %s: is flink-hub running there?", ns)
			}
			if byReplica {
				return PrintByReplica(cmd.OutOrStdout(), t)
			}
			return Print(cmd.OutOrStdout(), t)
		},
	}
	cmd.Flags().BoolVar(&byReplica, "by-replica", false, "sum shards and keys per replica")
	return cmd
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func keys(n int) string {
	if n < 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

// Print writes one line per shard.
func Print(w io.Writer, t shardlease.Table) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SHARD\tREPLICA\tKEYS\tHANDOFFS")
	for _, r := range t.Rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\n", r.Shard, orNone(r.Replica), keys(r.Keys), r.Transitions)
	}
	return tw.Flush()
}

// PrintByReplica writes one line per replica, with what it announces: a
// replica stopping, or (with a member spread) the shards it is ready to
// take while their holders still work them.
func PrintByReplica(w io.Writer, t shardlease.Table) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REPLICA\tSHARDS\tKEYS\tHANDOFF")
	for _, r := range t.ByReplica() {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", orNone(r.Replica), r.Shards, r.Keys, handoffState(r))
	}
	return tw.Flush()
}

// handoffState says what a replica announces about handoffs: "leaving",
// "ready for <shards>", or "-".
func handoffState(r shardlease.ReplicaRow) string {
	switch {
	case r.Leaving:
		return "leaving"
	case len(r.Ready) > 0:
		return "ready for " + shardlease.FormatShardList(r.Ready)
	}
	return "-"
}
