// Command sandbox runs a local flink-hub fleet for a newcomer: real
// kube-apiservers for a hub and members on loopback, members registered with
// `kubectl flinkhub cluster add`, three hub replicas tracing to a local
// Jaeger, the Flink simulator, the upstream example FlinkDeployments, and a
// live fleet table until Ctrl-C, which stops everything it started.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
}

// options are the sandbox's flags.
type options struct {
	dir                string
	members, replicas  int
	hubBin, pluginBin  string
	jaegerQuery        int
	otlpHTTP, otlpGRPC int
	fleetPort          int
	consolePort        int
	refresh            time.Duration
	quiet              bool
}

func parse(args []string) (*options, error) {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	root := framework.RepoRoot()
	o := &options{}
	fs.StringVar(&o.dir, "dir", filepath.Join(root, ".sandbox"), "folder for kubeconfigs and logs")
	fs.IntVar(&o.members, "members", 2, "member clusters")
	fs.IntVar(&o.replicas, "replicas", 3, "hub replicas")
	fs.StringVar(&o.hubBin, "hub", filepath.Join(root, "bin", "flink-hub"), "flink-hub binary")
	fs.StringVar(&o.pluginBin, "plugin", filepath.Join(root, "bin", "kubectl-flinkhub"), "kubectl-flinkhub binary")
	fs.IntVar(&o.jaegerQuery, "jaeger-query-port", 16686, "Jaeger query API port")
	fs.IntVar(&o.otlpHTTP, "otlp-http-port", 4318, "Jaeger OTLP/HTTP port")
	fs.IntVar(&o.otlpGRPC, "otlp-grpc-port", 4317, "Jaeger OTLP/gRPC port")
	fs.IntVar(&o.fleetPort, "fleet-port", 8082, "fleet API port of the first replica (the others use the next ports)")
	fs.IntVar(&o.consolePort, "console-port", 8090, "port of the web console (kubectl flinkhub console as the fleet reader)")
	fs.DurationVar(&o.refresh, "refresh", 2*time.Second, "fleet table refresh interval")
	fs.BoolVar(&o.quiet, "plain", false, "print the table without clearing the screen")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.members < 1 || o.replicas < 1 {
		return nil, errors.New("--members and --replicas must be at least 1")
	}
	return o, nil
}

// checkPorts fails with the first fixed port that is taken.
func checkPorts(o *options) error {
	ports := map[int]string{o.jaegerQuery: "Jaeger query API (--jaeger-query-port)", o.otlpHTTP: "OTLP/HTTP (--otlp-http-port)", o.otlpGRPC: "OTLP/gRPC (--otlp-grpc-port)", o.consolePort: "web console (--console-port)"}
	for i := range o.replicas {
		ports[o.fleetPort+i] = fmt.Sprintf("fleet API of replica %d (--fleet-port)", i)
	}
	for port, what := range ports {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return fmt.Errorf("port %d for the %s is taken; free it or choose another", port, what)
		}
		_ = l.Close()
	}
	return nil
}

// run starts the sandbox, shows the fleet until ctx ends and stops it. It
// fails, after stopping everything, when a member refused the hub anything.
func run(ctx context.Context, args []string, out io.Writer) (err error) {
	o, err := parse(args)
	if err != nil {
		return err
	}
	if err := checkPorts(o); err != nil {
		return err
	}
	for _, bin := range []string{o.hubBin, o.pluginBin} {
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("%s is missing: run `make sandbox`, which builds it", bin)
		}
	}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	s := &sandbox{opts: o, out: out}
	defer func() { err = errors.Join(err, s.stop()) }()
	if err := s.start(ctx); err != nil {
		return err
	}
	s.watch(ctx)
	return nil
}
