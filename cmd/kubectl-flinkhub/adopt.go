package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/flink-hub/flink-hub/internal/clusters/registration"
)

// newAdoptCommand is `adopt <member>`: hand the hub the FlinkDeployments
// another operator (the Apache operator) ran in a registered member.
func newAdoptCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "adopt <member>",
		Short: "Take over a member's FlinkDeployments from the Apache operator, without restarting their jobs",
		Long: `Marks the member's registration so that the hub takes over, in place, every
FlinkDeployment whose status another operator (the Apache Flink Kubernetes
Operator) wrote before now. Without it the hub leaves such FlinkDeployments
alone (ManagedElsewhere events). Stop the other operator first: a status it
writes after this command makes the hub leave that FlinkDeployment alone
again. The hub keeps the running JobManagers (labelling them as its own)
and the jobs; their next upgrade starts from their savepoint or HA metadata
as usual.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			hub, _, err := g.hubClient()
			if err != nil {
				return err
			}
			at := time.Now().Truncate(time.Second).Add(time.Second)
			found, err := registration.Adopt(cmd.Context(), hub, g.namespace, args[0], at)
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("member cluster %q is not registered in namespace %q: register it with 'cluster add' first", args[0], g.namespace)
			}
			fmt.Fprintf(g.stdout, "member cluster %q: the hub takes over the FlinkDeployments another operator wrote before %s\n", args[0], at.UTC().Format(time.RFC3339))
			return nil
		},
	}
}
