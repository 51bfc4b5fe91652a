// Command flink-hub is the hub operator: it parses and validates its flags
// and hands them to internal/app, which builds the hub and runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/flink-hub/flink-hub/internal/jarfetch"
	"io"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/client/config"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flink-hub/flink-hub/internal/app"
	"github.com/flink-hub/flink-hub/internal/clusters"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/observability"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// config is everything the flags set: the command's own and the hub's.
type config struct {
	showVersion bool
	kubeconfig  string
	verbosity   int
	hub         app.Config
}

// parseFlags binds every component's flags, parses args and validates
// every component; it reports all problems at once.
func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("flink-hub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// Settings without a flag keep their defaults.
	c := &config{hub: app.Config{Version: version, Clusters: clusters.DefaultOptions(), Reconcile: flinkdeployment.DefaultOptions(), Jars: jarfetch.DefaultOptions()}}
	fs.BoolVar(&c.showVersion, "version", false, "print the version and exit")
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig of the hub cluster (default: in-cluster or $KUBECONFIG)")
	fs.StringVar(&c.hub.MetricsAddr, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint (0 disables)")
	fs.StringVar(&c.hub.HealthAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz (0 disables)")
	fs.IntVar(&c.verbosity, "v", 0, "log verbosity")
	fs.StringVar(&c.hub.PprofAddr, "pprof-bind-address", "", "address of /debug/pprof (empty disables)")
	bindAuditFlag(fs, c)
	c.hub.Clusters.BindFlags(fs)
	c.hub.Election.BindFlags(fs)
	c.hub.Reconcile.BindFlags(fs)
	c.hub.Controller.BindFlags(fs)
	c.hub.FlinkREST.BindFlags(fs)
	c.hub.Tracing.BindFlags(fs)
	c.hub.Webhook.BindFlags(fs)
	c.hub.Jars.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return c, errors.Join(c.hub.Clusters.Validate(), c.hub.Election.Validate(), c.hub.Reconcile.Validate(), c.hub.Controller.Validate(),
		c.hub.FlinkREST.Validate(), c.hub.Tracing.Validate(), c.hub.Webhook.Validate(), c.hub.Jars.Validate())
}

// run parses args, runs the hub until ctx ends and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		if c != nil {
			fmt.Fprintf(stderr, "flink-hub: %v\n", err)
		}
		return 2
	}
	if c.showVersion {
		fmt.Fprintf(stdout, "flink-hub %s\n", version)
		return 0
	}
	logger := observability.WithoutQueueItemDumps(textlogger.NewLogger(textlogger.NewConfig(textlogger.Verbosity(c.verbosity), textlogger.Output(stderr))))
	ctrllog.SetLogger(logger)
	klog.SetLogger(logger)
	// Printed once the global loggers are set, which is not safe while
	// other goroutines log: a caller running the hub in-process waits for it.
	fmt.Fprintf(stdout, "flink-hub %s\n", version)

	cfg, err := hubConfig(c.kubeconfig)
	if err != nil {
		fmt.Fprintf(stderr, "flink-hub: hub cluster config: %v\n", err)
		return 1
	}
	if err := app.Run(ctx, cfg, c.hub); err != nil {
		fmt.Fprintf(stderr, "flink-hub: %v\n", err)
		return 1
	}
	return 0
}

func hubConfig(kubeconfig string) (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	if kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	} else {
		cfg, err = ctrlconfig.GetConfig()
	}
	if err != nil {
		return nil, err
	}
	// client-go's default of 5 requests per second would make releasing 64
	// shard fences at shutdown take many seconds.
	if cfg.QPS < 50 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	return cfg, nil
}
