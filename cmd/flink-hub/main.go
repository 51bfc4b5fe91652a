// Command flink-hub is the hub operator. It only parses its flags and prints
// its version for now; the manager is wired in as the controllers land.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("flink-hub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.String("namespace", "flink-hub", "hub namespace holding member kubeconfig Secrets and Leases")
	fs.String("metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint")
	fs.String("health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	fmt.Fprintf(stdout, "flink-hub %s\n", version)
	if *showVersion {
		return 0
	}
	fs.SetOutput(stdout)
	fmt.Fprintln(stdout, "flags:")
	fs.PrintDefaults()
	return 0
}
