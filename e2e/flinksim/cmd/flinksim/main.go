// Command flinksim runs the Flink simulator as a process, for the sandbox:
// it plays kubelet and Flink for the member clusters named by --member
// flags and serves every simulated JobManager on --listen under
// /<cluster>/<namespace>/<name>/, for the hub's url transport with
// --flink-rest-url-template=http://<listen>/{{.Cluster}}/{{.Namespace}}/{{.Name}}/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr/funcr"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/flink-hub/flink-hub/e2e/flinksim"
)

// members collects repeated --member name=kubeconfig flags.
type members map[string]string

func (m members) String() string { return fmt.Sprint(map[string]string(m)) }

func (m members) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	if !ok || name == "" || path == "" {
		return fmt.Errorf("want name=kubeconfig-path, got %q", v)
	}
	m[name] = path
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "flinksim:", err)
		os.Exit(1)
	}
}

func run() error {
	ms := members{}
	var opts flinksim.Options
	listen := flag.String("listen", "127.0.0.1:8081", "address serving the simulated JobManagers under /<cluster>/<namespace>/<name>/")
	flag.Var(ms, "member", "member cluster to simulate, as name=kubeconfig-path (repeatable)")
	flag.DurationVar(&opts.CheckpointInterval, "checkpoint-interval", 0, "override every cluster's execution.checkpointing.interval (0: use the cluster's)")
	flag.DurationVar(&opts.StartDelay, "start-delay", 2*time.Second, "time a job spends INITIALIZING and CREATED")
	flag.DurationVar(&opts.SavepointDuration, "savepoint-duration", 3*time.Second, "time a savepoint takes")
	flag.DurationVar(&opts.CancelDelay, "cancel-delay", time.Second, "time a job spends CANCELLING or FAILING")
	flag.StringVar(&opts.Namespace, "namespace", "", "simulate only this namespace of each member (default: all)")
	verbose := flag.Bool("v", false, "log every simulator message")
	flag.Parse()
	if len(ms) == 0 {
		return errors.New("no --member given")
	}
	verbosity := 0
	if *verbose {
		verbosity = 1
	}
	opts.Log = funcr.New(func(prefix, args string) { fmt.Fprintln(os.Stderr, prefix, args) }, funcr.Options{Verbosity: verbosity})

	sim := flinksim.New(opts)
	defer sim.Stop()
	for name, path := range ms {
		cfg, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return fmt.Errorf("member %s: %w", name, err)
		}
		if err := sim.AddMember(name, cfg); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: *listen, Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Fprintf(os.Stderr, "flinksim: simulating %d member(s), JobManagers on http://%s/<cluster>/<namespace>/<name>/\n", len(ms), *listen)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
