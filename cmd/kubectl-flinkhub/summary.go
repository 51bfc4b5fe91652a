package main

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"

	"github.com/spf13/cobra"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
)

// newGetSummaryCommand is `get summary`: each member's FlinkDeployments and
// FlinkSessionJobs counted by state, from counts every replica keeps (one
// request, however big the fleet).
func newGetSummaryCommand(g *globals) *cobra.Command {
	var (
		cluster, state, text string
		src                  fleetSource
	)
	cmd := &cobra.Command{
		Use:   "summary",
		Short: "Count each member's FlinkDeployments and FlinkSessionJobs by state (the job's, else the lifecycle state), and those that pass the filters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			q := url.Values{}
			for k, v := range map[string]string{"cluster": cluster, "anyState": state, "q": text} {
				if v != "" {
					q.Set(k, v)
				}
			}
			var s fleetv1.Summary
			if err := g.fleetGet(cmd, src, fleetv1.SummaryPath+"?"+q.Encode(), &s); err != nil {
				return err
			}
			for _, missing := range s.Incomplete {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: counts missing: %s\n", missing)
			}
			if g.output != "table" {
				return printStructured(g.stdout, g.output, s)
			}
			headers, rows := summaryTable(s.Clusters, len(q) > 0)
			return printTable(g.stdout, headers, rows)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cluster, "cluster", "", "count as matched only this member cluster's")
	f.StringVar(&state, "state", "", "count as matched only those in this lifecycle or job state (any case)")
	f.StringVar(&text, "text", "", "count as matched only those with this text in a name, namespace, owner, kind or error (any case)")
	addFleetSourceFlags(cmd, &src)
	return cmd
}

// summaryTable lays the summary out: a row per member and a last row of
// all, a column per state any member has, the total, and the matches when
// filtered.
func summaryTable(clusters []fleetv1.ClusterSummary, filtered bool) ([]string, [][]string) {
	var states []string
	for _, c := range clusters {
		for s := range c.ByState {
			if !slices.Contains(states, s) {
				states = append(states, s)
			}
		}
	}
	slices.Sort(states)
	headers := append(append([]string{"CLUSTER"}, states...), "TOTAL")
	if filtered {
		headers = append(headers, "MATCHED")
	}
	all := fleetv1.ClusterSummary{Cluster: "(all)", ByState: map[string]int{}}
	for _, c := range clusters {
		all.Total, all.Matched = all.Total+c.Total, all.Matched+c.Matched
		for s, n := range c.ByState {
			all.ByState[s] += n
		}
	}
	var rows [][]string
	for _, c := range append(slices.Clone(clusters), all) {
		row := []string{c.Cluster}
		for _, s := range states {
			row = append(row, strconv.Itoa(c.ByState[s]))
		}
		row = append(row, strconv.Itoa(c.Total))
		if filtered {
			row = append(row, strconv.Itoa(c.Matched))
		}
		rows = append(rows, row)
	}
	return headers, rows
}
