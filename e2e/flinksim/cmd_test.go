package flinksim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// TestCommand runs the simulator as the sandbox does: a separate process
// with a member kubeconfig, serving JobManagers for the url transport.
func TestCommand(t *testing.T) {
	addr, ns := startCommand(t)
	c := nativeCluster("sandboxed", ns, "kubernetes-application", "$internal.application.main: org.example.Main\nstate.savepoints.dir: s3://sp\n$internal.pipeline.job-id: 000000000000000000000000000000c0\n")
	create(t, c)
	resolver, err := flinkrest.NewResolver(flinkrest.Options{Transport: flinkrest.TransportURL, URLTemplate: "http://" + addr + "/{{.Cluster}}/{{.Namespace}}/{{.Name}}/"})
	if err != nil {
		t.Fatal(err)
	}
	flink, err := resolver.Client(flinkrest.Target{Cluster: "m1", Namespace: ns, Name: c.name}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	eventually(t, "job running in the simulator process", jobIs(ctx, flink, api.JobStatusRUNNING))
	if err := runningPods(t, c, "taskmanager", 1); err != nil {
		t.Fatal(err)
	}

	// The admin API: faults, crashes and the savepoint history.
	admin := "http://" + addr + flinksim.AdminPrefix
	call := func(method, path, body string) int {
		t.Helper()
		req, err := http.NewRequest(method, admin+path+"/m1/"+ns+"/"+c.name, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	checkAdminFaults(t, ctx, flink, call)
	checkAdminCrashAndSavepoints(t, ctx, flink, call, admin, c)
}

// startCommand builds the simulator's command and runs it for member m1
// (the member control plane) in a namespace of its own until the test
// ends. It returns the address it serves on and the namespace.
func startCommand(t *testing.T) (addr, ns string) {
	t.Helper()
	dir := t.TempDir()
	bin, err := framework.Build("./e2e/flinksim/cmd/flinksim")
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(dir, "member.kubeconfig")
	if err := os.WriteFile(kubeconfig, member.Kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	addr = framework.FreeAddr(t)
	ns = namespace(t)
	sim, err := framework.StartProcess(dir, "flinksim", bin, "--member", "m1="+kubeconfig, "--listen", addr, "--namespace", ns, "--start-delay", "100ms")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sim.Stop(30 * time.Second); err != nil {
			t.Errorf("%v; log %s", err, sim.LogPath)
		}
	})
	return addr, ns
}

// checkAdminFaults injects faults through the admin API (call), bad ones
// refused, and checks that flink sees them until they are cleared.
func checkAdminFaults(t *testing.T, ctx context.Context, flink flinkrest.Client, call func(method, path, body string) int) {
	t.Helper()
	if code := call("PUT", "faults", `{"errorStatus": 503}`); code != http.StatusNoContent {
		t.Fatalf("PUT faults: HTTP %d", code)
	}
	if _, err := flink.Config(ctx); !flinkrest.IsNotReady(err) || !strings.Contains(err.Error(), "Simulated failure") {
		t.Fatalf("injected 503: %v", err)
	}
	for _, bad := range []string{`{"latency": "soon"}`, `{"hostile": "carrier-pigeon"}`, `{"hostile": "redirect"}`} {
		if code := call("PUT", "faults", bad); code != http.StatusBadRequest {
			t.Fatalf("PUT bad faults %s: HTTP %d", bad, code)
		}
	}
	if code := call("PUT", "faults", `{"hostile": "invalid-json"}`); code != http.StatusNoContent {
		t.Fatalf("PUT hostile faults: HTTP %d", code)
	}
	if _, err := flink.Config(ctx); flinkrest.KindOf(err) != flinkrest.KindBadResponse || !strings.Contains(err.Error(), "malformed JSON") {
		t.Fatalf("hostile invalid JSON: %v", err)
	}
	if code := call("PUT", "faults", ""); code != http.StatusNoContent {
		t.Fatalf("clearing faults: HTTP %d", code)
	}
}

// checkAdminCrashAndSavepoints takes a savepoint of c's job, crashes its
// JobManager through the admin API (call) and checks that the JobManager
// is replaced and the admin API at admin lists the savepoint.
func checkAdminCrashAndSavepoints(t *testing.T, ctx context.Context, flink flinkrest.Client, call func(method, path, body string) int, admin string, c cluster) {
	t.Helper()
	const jobID = "000000000000000000000000000000c0"
	trig, err := flink.TriggerSavepoint(ctx, jobID, flinkrest.SavepointRequest{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "savepoint", func() error { return succeeded(flink.SavepointStatus(ctx, jobID, trig)) })
	before := pods(t, c, "jobmanager")[0].UID
	if code := call("POST", "crash", ""); code != http.StatusNoContent {
		t.Fatalf("POST crash: HTTP %d", code)
	}
	eventually(t, "JobManager replaced", func() error {
		if ps := pods(t, c, "jobmanager"); len(ps) != 1 || ps[0].UID == before {
			return fmt.Errorf("not replaced")
		}
		return nil
	})
	resp, err := http.Get(admin + "savepoints/m1/" + c.ns + "/" + c.name)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sps []struct{ Path string }
	if err := json.NewDecoder(resp.Body).Decode(&sps); err != nil || len(sps) != 1 || !strings.HasPrefix(sps[0].Path, "s3://sp/savepoint-") {
		t.Fatalf("savepoints %+v, %v", sps, err)
	}
}
