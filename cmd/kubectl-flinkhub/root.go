package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/internal/observability/tracecmd"
	"github.com/flink-hub/flink-hub/internal/sharding/shardscmd"
)

// globals are the kubectl-style flags shared by every command.
type globals struct {
	kubeconfig string
	context    string
	namespace  string
	output     string
	stdout     io.Writer
}

func newRootCommand(stdout io.Writer) *cobra.Command {
	g := &globals{stdout: stdout}
	root := &cobra.Command{
		Use:           "kubectl-flinkhub",
		Short:         "Register member clusters with flink-hub and look at the fleet",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	pf.StringVar(&g.context, "context", "", "kubeconfig context of the hub cluster (default: the current context)")
	pf.StringVarP(&g.namespace, "namespace", "n", "flink-hub", "hub namespace")
	pf.StringVarP(&g.output, "output", "o", "table", "output format: table, json or yaml")
	shards := shardscmd.NewCommand(func() (*rest.Config, string, error) {
		cfg, err := g.restConfig(g.context)
		return cfg, g.namespace, err
	})
	root.AddCommand(newClusterCommand(g), newGetCommand(g), newAdoptCommand(g), newConsoleCommand(g), shards, tracecmd.NewCommand())
	return root
}

// restConfig returns the client config of a kubeconfig context ("" is the
// current context).
func (g *globals) restConfig(context string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = g.kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("context %q: %w", context, err)
	}
	return cfg, nil
}

// hubClient returns a client of the hub cluster.
func (g *globals) hubClient() (client.Client, *rest.Config, error) {
	cfg, err := g.restConfig(g.context)
	if err != nil {
		return nil, nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: hubScheme()})
	return c, cfg, err
}

// hubScheme knows what the plugin reads in the hub cluster: built from
// the API packages alone, not from the hub's wiring.
func hubScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, hubv1alpha1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err) // static registrations
		}
	}
	return s
}

func (g *globals) checkOutput() error {
	switch g.output {
	case "table", "json", "yaml":
		return nil
	}
	return fmt.Errorf("unknown output format %q (want table, json or yaml)", g.output)
}
