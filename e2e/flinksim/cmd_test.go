package flinksim_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/flink-hub/flink-hub/controllers/flinkrest"
	"github.com/flink-hub/flink-hub/controllers/flinkrest/api"
)

// TestCommand runs the simulator as the sandbox does: a separate process
// with a member kubeconfig, serving JobManagers for the url transport.
func TestCommand(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "flinksim")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/flinksim").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	kubeconfig := filepath.Join(dir, "member.kubeconfig")
	if err := os.WriteFile(kubeconfig, member.Kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ns := namespace(t)
	cmd := exec.Command(bin, "--member", "m1="+kubeconfig, "--listen", addr, "--namespace", ns, "--start-delay", "100ms")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})

	c := cluster{name: "sandboxed", ns: ns, native: true,
		command: []string{"kubernetes-jobmanager.sh", "kubernetes-application"},
		config:  "$internal.application.main: org.example.Main\n"}
	create(t, c)
	resolver, err := flinkrest.NewResolver(flinkrest.Options{Transport: flinkrest.TransportURL, URLTemplate: "http://" + addr + "/{{.Cluster}}/{{.Namespace}}/{{.Name}}/"})
	if err != nil {
		t.Fatal(err)
	}
	flink, err := resolver.Client(flinkrest.Target{Cluster: "m1", Namespace: ns, Name: c.name}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	eventually(t, "job running in the simulator process", jobIs(ctx, flink, api.JobStatusRUNNING))
	if err := runningPods(t, c, "taskmanager", 1); err != nil {
		t.Fatal(err)
	}
}
