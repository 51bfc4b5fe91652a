package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/internal/clusters/registration"
)

func newClusterCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "cluster", Short: "Register, remove and list member clusters"}
	cmd.AddCommand(newClusterAddCommand(g), newClusterRemoveCommand(g), newClusterListCommand(g))
	return cmd
}

func newClusterAddCommand(g *globals) *cobra.Command {
	var (
		o      registration.Options
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "add <member-context>",
		Short: "Register the cluster of a kubeconfig context as a member of the hub",
		Long: `Creates, in the member, a namespace, a ServiceAccount and a ClusterRole and
binding with exactly the permissions the hub needs there; requests a token for
the ServiceAccount; and writes a kubeconfig with the member's CA and that
token as a labelled Secret into the hub namespace. Running it again updates
the registration (and rotates the token).

With --namespaces a,b the hub gets rights only in those member namespaces
(a Role and RoleBinding in each; the ClusterRole keeps only the hub's
webhook configuration and CRD, by name) and watches only them. Roles left in
namespaces no longer listed are deleted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			if o.Name == "" {
				o.Name = memberName(args[0])
			}
			if errs := validation.IsDNS1123Subdomain(o.Name); len(errs) > 0 {
				return fmt.Errorf("invalid member name %q: %s (set one with --name)", o.Name, strings.Join(errs, ", "))
			}
			o.HubNamespace = g.namespace
			if err := o.Validate(); err != nil {
				return err
			}
			if dryRun {
				return printDryRun(g, o)
			}
			memberCfg, err := g.restConfig(args[0])
			if err != nil {
				return err
			}
			memberClient, err := client.New(memberCfg, client.Options{Scheme: clientgoscheme.Scheme})
			if err != nil {
				return err
			}
			hub, _, err := g.hubClient()
			if err != nil {
				return err
			}
			r := &registration.Registrar{Member: memberCfg, MemberClient: memberClient, Hub: hub}
			secret, err := r.Add(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "member cluster %q registered (Secret %s/%s)\n", o.Name, secret.Namespace, secret.Name)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "member name in the hub (default: the context name)")
	f.StringVar(&o.MemberNamespace, "member-namespace", "flink-hub", "namespace of the hub's ServiceAccount in the member")
	f.StringVar(&o.ServiceAccount, "service-account", "flink-hub", "name of the hub's ServiceAccount in the member")
	f.BoolVar(&o.InstallCRDs, "install-crds", true, "let the hub install the FlinkDeployment CRD in the member (match the hub's --install-crds)")
	f.DurationVar(&o.TokenTTL, "token-ttl", registration.Options{}.WithDefaults().TokenTTL, "requested lifetime of the hub's token (the member may shorten it); the hub warns on the MemberCluster a week before it expires: run cluster add again to rotate")
	f.StringSliceVar(&o.Namespaces, "namespaces", nil, "comma-separated member namespaces the hub may manage (Roles there, no cluster-wide rights on namespaced objects); default: every namespace")
	f.BoolVar(&dryRun, "dry-run", false, "print the objects that would be created, change nothing")
	return cmd
}

// printDryRun prints the member objects and the hub Secret (without a
// token: none is issued in a dry run).
func printDryRun(g *globals, o registration.Options) error {
	format := g.output
	if format == "table" {
		format = "yaml"
	}
	for _, obj := range registration.MemberObjects(o) {
		if err := printDocument(g, format, "member", obj); err != nil {
			return err
		}
	}
	return printDocument(g, format, "hub", registration.Secret(o, []byte("<kubeconfig with a token issued at registration>")))
}

func printDocument(g *globals, format, where string, obj any) error {
	if format == "yaml" {
		fmt.Fprintf(g.stdout, "# %s\n", where)
		defer fmt.Fprintln(g.stdout, "---")
	}
	return printStructured(g.stdout, format, obj)
}

var invalidNameChars = regexp.MustCompile(`[^a-z0-9.-]+`)

// memberName derives a member name from a kubeconfig context name.
func memberName(context string) string {
	return strings.Trim(invalidNameChars.ReplaceAllString(strings.ToLower(context), "-"), "-.")
}

func newClusterRemoveCommand(g *globals) *cobra.Command {
	var (
		o             registration.Options
		memberContext string
	)
	cmd := &cobra.Command{
		Use:   "remove <name>",
		Short: "Remove a member: delete its Secret from the hub (the hub disengages it)",
		Long: `Deletes the member's Secret from the hub namespace; the hub disengages the
member and leaves its Flink clusters running. With --member-context, also
deletes in the member the ServiceAccount, ClusterRole and binding, and the
Roles and RoleBindings of --namespaces, that 'cluster add' created, which
revokes the hub's token there, and the member's claim Lease
(kube-public/flink-hub-claim) if this registration holds it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			hub, _, err := g.hubClient()
			if err != nil {
				return err
			}
			var member client.Client
			if memberContext != "" {
				// Reach the member before changing anything in the hub.
				cfg, err := g.restConfig(memberContext)
				if err != nil {
					return err
				}
				if member, err = client.New(cfg, client.Options{Scheme: clientgoscheme.Scheme}); err != nil {
					return err
				}
			}
			found, err := registration.Remove(cmd.Context(), hub, g.namespace, args[0])
			if err != nil {
				return err
			}
			if member != nil {
				o.Name, o.HubNamespace = args[0], g.namespace
				deleted, err := registration.RevokeMember(cmd.Context(), member, o)
				for _, d := range deleted {
					fmt.Fprintf(g.stdout, "member: deleted %s\n", d)
				}
				if err != nil {
					return err
				}
			}
			if !found {
				return fmt.Errorf("member cluster %q is not registered in namespace %q", args[0], g.namespace)
			}
			fmt.Fprintf(g.stdout, "member cluster %q removed\n", args[0])
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&memberContext, "member-context", "", "kubeconfig context of the member: also delete the hub's ServiceAccount and RBAC there")
	f.StringVar(&o.MemberNamespace, "member-namespace", "flink-hub", "namespace of the hub's ServiceAccount in the member (as given to cluster add)")
	f.StringVar(&o.ServiceAccount, "service-account", "flink-hub", "name of the hub's ServiceAccount in the member (as given to cluster add)")
	return cmd
}

func newClusterListCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List member clusters from their MemberCluster status",
		Long: "List member clusters from their MemberCluster status. RULES is Outdated for a member whose hub identity\n" +
			"was granted rules of another hub version: run `cluster add` for it again, which upgrades them in place.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.checkOutput(); err != nil {
				return err
			}
			hub, _, err := g.hubClient()
			if err != nil {
				return err
			}
			var list hubv1alpha1.MemberClusterList
			if err := hub.List(cmd.Context(), &list, client.InNamespace(g.namespace)); err != nil {
				return err
			}
			if g.output != "table" {
				return printStructured(g.stdout, g.output, list.Items)
			}
			rows := make([][]string, 0, len(list.Items))
			for _, mc := range list.Items {
				ready, reason := "Unknown", ""
				if c := meta.FindStatusCondition(mc.Status.Conditions, hubv1alpha1.ConditionReady); c != nil {
					ready, reason = string(c.Status), c.Reason
				}
				probe := ""
				if mc.Status.LastProbeTime != nil {
					probe = duration.HumanDuration(time.Since(mc.Status.LastProbeTime.Time))
				}
				rules := "Unknown"
				if c := meta.FindStatusCondition(mc.Status.Conditions, hubv1alpha1.ConditionRulesCurrent); c != nil {
					rules = c.Reason
				}
				expires := ""
				if t := mc.Status.CredentialsExpireAt; t != nil {
					expires = "in " + duration.HumanDuration(time.Until(t.Time))
					if time.Until(t.Time) <= 0 {
						expires = "expired"
					}
				}
				rows = append(rows, []string{mc.Name, ready, reason, rules, expires, mc.Status.KubernetesVersion,
					strconv.Itoa(int(mc.Status.FlinkDeployments)), probe, duration.HumanDuration(time.Since(mc.CreationTimestamp.Time))})
			}
			return printTable(g.stdout, []string{"NAME", "READY", "REASON", "RULES", "TOKEN-EXPIRES", "VERSION", "DEPLOYMENTS", "LAST-PROBE", "AGE"}, rows)
		},
	}
}
