package hub

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/framework"
)

// The Lease timings keep the production ratios at a few times the
// chart's speed. A full make test loads the 2 cores so that the hub
// apiserver answers Lease writes late for seconds at a time: a 3 s renew
// deadline with 500 ms renewals lapsed every fence of a replica there.
const (
	hubNamespace  = "flink-hub"
	leaseDuration = 8 * time.Second
	renewDeadline = 6 * time.Second
	retryPeriod   = time.Second
)

var (
	fleet    *framework.Fleet
	sim      *flinksim.Simulator
	jaeger   *framework.Jaeger
	replicas []*framework.Process
	workDir  string
	// startReplica starts one more hub replica with the shared flags and
	// extra (later flags win).
	startReplica func(id string, extra ...string) (*framework.Process, error)
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) (code int) {
	ctrllog.SetLogger(logr.Discard())
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := framework.Build("./cmd/flink-hub")
	if err != nil {
		return fail(err)
	}
	if workDir, err = os.MkdirTemp("", "e2e-hub-"); err != nil {
		return fail(err)
	}
	fleet, err = framework.StartFleet(framework.FleetOptions{Members: 2, HubCRDDirs: []string{framework.CRDDir()}})
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err := fleet.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	if jaeger, err = framework.StartJaeger(ctx); err != nil {
		return fail(err)
	}
	defer func() { _ = jaeger.Stop() }()

	sim = flinksim.New(flinksim.Options{StartDelay: 200 * time.Millisecond, CheckpointInterval: time.Second, SavepointDuration: 300 * time.Millisecond})
	defer sim.Stop()
	for _, m := range fleet.Members {
		if err := sim.AddMember(m.Name, m.Config); err != nil {
			return fail(err)
		}
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()

	if err := fleet.RegisterMembers(ctx, hubNamespace); err != nil {
		return fail(err)
	}
	kubeconfig := filepath.Join(workDir, "hub.kubeconfig")
	if err := os.WriteFile(kubeconfig, fleet.Hub.Kubeconfig, 0o600); err != nil {
		return fail(err)
	}
	// Replicas stop before the simulator and the control planes.
	defer func() { code = stopReplicas(code) }()
	startReplica = replicaStarter(bin, kubeconfig, srv.URL)
	for _, id := range []string{"hub-0", "hub-1"} {
		if _, err := startReplica(id); err != nil {
			return fail(err)
		}
	}
	code = m.Run()
	if err := fleet.CheckNoRefusals(); err != nil {
		fmt.Fprintln(os.Stderr, "the hub's member identity was refused:", err)
		code = 1
	}
	return code
}

// replicaStarter returns the startReplica of hub binary bin, reaching the
// hub with kubeconfig and the simulated JobManagers at simURL.
func replicaStarter(bin, kubeconfig, simURL string) func(id string, extra ...string) (*framework.Process, error) {
	return func(id string, extra ...string) (*framework.Process, error) {
		p, err := framework.StartProcess(workDir, id, bin, append([]string{
			"--kubeconfig", kubeconfig, "--namespace", hubNamespace, "--replica-id", id,
			"--metrics-bind-address", "0", "--health-probe-bind-address", "0", "--fleet-bind-address", "",
			"--health-debounce", "0s", "--health-probe-interval", "1s",
			"--lease-duration", leaseDuration.String(), "--renew-deadline", renewDeadline.String(), "--retry-period", retryPeriod.String(),
			"--progress-check-interval", "500ms", "--reconcile-interval", "5s",
			"--flink-rest-transport", "url", "--flink-rest-url-template", simURL + "/{{.Cluster}}/{{.Namespace}}/{{.Name}}/",
			"--otel-endpoint", jaeger.OTLPHTTP, "-v", "1",
			// The session jobs' artifact server is on loopback.
			"--jar-fetch-allow-private-networks", "--jar-cache-dir", jarCacheDir()}, extra...)...)
		if err == nil {
			replicas = append(replicas, p)
		}
		return p, err
	}
}

// jarCacheDir is the --jar-cache-dir every replica shares, as the
// sandbox's replicas share their machine's default.
func jarCacheDir() string { return filepath.Join(workDir, "jars") }

// leftJarFolders lists the jar folders replica r left in jarCacheDir: a
// replica that stopped cleanly removes its own (process-<pid>-<random>).
func leftJarFolders(r *framework.Process) []string {
	left, _ := filepath.Glob(filepath.Join(jarCacheDir(), fmt.Sprintf("process-%d-*", r.Pid())))
	return left
}

// stopReplicas stops every replica not killed on purpose and returns the
// exit code: 1 if one did not stop cleanly, else code. The work folder is
// removed on success and kept, with the replicas' logs, otherwise.
func stopReplicas(code int) int {
	for _, r := range replicas {
		if killed[r.Name] {
			continue
		}
		if err := r.Stop(30 * time.Second); err != nil {
			fmt.Fprintf(os.Stderr, "%v (log %s)\n", err, r.LogPath)
			code = 1
		} else if left := leftJarFolders(r); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "%s stopped cleanly but left its jar folder %v (log %s)\n", r.Name, left, r.LogPath)
			code = 1
		}
	}
	if code != 0 {
		fmt.Fprintln(os.Stderr, "replica logs are in", workDir)
	} else {
		_ = os.RemoveAll(workDir)
	}
	return code
}
