// Command flink-hub is the hub operator: it parses its flags and wires the
// member cluster machinery (package clusters) into a multicluster manager.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/flink-hub/flink-hub/clusters"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// config is everything the flags set.
type config struct {
	showVersion bool
	kubeconfig  string
	metricsAddr string
	healthAddr  string
	verbosity   int
	clusters    clusters.Options
	memberQPS   float64
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("flink-hub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{clusters: clusters.DefaultOptions()}
	o := &c.clusters
	fs.BoolVar(&c.showVersion, "version", false, "print the version and exit")
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig of the hub cluster (default: in-cluster or $KUBECONFIG)")
	fs.StringVar(&c.metricsAddr, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint (0 disables)")
	fs.StringVar(&c.healthAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz (0 disables)")
	fs.IntVar(&c.verbosity, "v", 0, "log verbosity")
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "hub namespace holding member kubeconfig Secrets and Leases")
	fs.Float64Var(&c.memberQPS, "member-qps", float64(o.MemberQPS), "client-side QPS limit of each member client")
	fs.IntVar(&o.MemberBurst, "member-burst", o.MemberBurst, "client-side burst of each member client")
	fs.DurationVar(&o.ProbeInterval, "health-probe-interval", o.ProbeInterval, "time between health probes of one member")
	fs.DurationVar(&o.ProbeTimeout, "health-probe-timeout", o.ProbeTimeout, "timeout of one member health probe")
	fs.DurationVar(&o.Debounce, "health-debounce", o.Debounce, "how long a member's new health must last before its Ready condition changes")
	fs.BoolVar(&o.InstallCRDs, "install-crds", o.InstallCRDs, "install or upgrade the FlinkDeployment CRD in members (server-side apply)")
	fs.StringVar(&o.FleetAddress, "fleet-bind-address", o.FleetAddress, "address of the read-only fleet API (/fleet/v1/...); empty disables")
	fs.IntVar(&o.StatusWorkers, "health-workers", o.StatusWorkers, "members probed at once")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	o.MemberQPS = float32(c.memberQPS)
	var problems []error
	if c.memberQPS <= 0 || o.MemberBurst <= 0 {
		problems = append(problems, errors.New("--member-qps and --member-burst must be positive"))
	}
	if o.ProbeInterval <= 0 || o.ProbeTimeout <= 0 || o.Debounce < 0 {
		problems = append(problems, errors.New("--health-probe-interval and --health-probe-timeout must be positive, --health-debounce not negative"))
	}
	if o.Namespace == "" {
		problems = append(problems, errors.New("--namespace must not be empty"))
	}
	return c, errors.Join(problems...)
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
	fmt.Fprintf(stdout, "flink-hub %s\n", version)
	if c.showVersion {
		return 0
	}
	logger := textlogger.NewLogger(textlogger.NewConfig(textlogger.Verbosity(c.verbosity), textlogger.Output(stderr)))
	ctrllog.SetLogger(logger)
	klog.SetLogger(logger)

	cfg, err := hubConfig(c.kubeconfig)
	if err != nil {
		fmt.Fprintf(stderr, "flink-hub: hub cluster config: %v\n", err)
		return 1
	}
	hub, err := clusters.New(cfg, c.clusters, manager.Options{
		Metrics:                metricsserver.Options{BindAddress: c.metricsAddr},
		HealthProbeBindAddress: c.healthAddr,
	})
	if err != nil {
		fmt.Fprintf(stderr, "flink-hub: %v\n", err)
		return 1
	}
	if err := hub.Manager.AddHealthzCheck("ping", healthz.Ping); err != nil {
		fmt.Fprintf(stderr, "flink-hub: %v\n", err)
		return 1
	}
	if err := hub.Manager.AddReadyzCheck("ping", healthz.Ping); err != nil {
		fmt.Fprintf(stderr, "flink-hub: %v\n", err)
		return 1
	}
	if err := hub.Manager.Start(ctx); err != nil {
		fmt.Fprintf(stderr, "flink-hub: %v\n", err)
		return 1
	}
	return 0
}

func hubConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		return clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	return ctrlconfig.GetConfig()
}
