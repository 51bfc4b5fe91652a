package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
)

func TestRunFlags(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		code     int
		stdout   []string
		stderrIn string
	}{
		{"version", []string{"--version"}, 0, []string{"flink-hub dev"}, ""},
		{"help", []string{"--help"}, 0, nil, "-member-qps"},
		{"unknown flag", []string{"--bogus"}, 2, nil, "flag provided but not defined: -bogus"},
		{"bad qps", []string{"--member-qps=0"}, 2, nil, "--member-qps and --member-burst must be positive"},
		{"bad probe", []string{"--health-probe-interval=0s"}, 2, nil, "--health-probe-interval"},
		{"no namespace", []string{"--namespace="}, 2, nil, "--namespace must not be empty"},
		{"bad worker share", []string{"--member-worker-share=0"}, 2, nil, "--member-worker-share: the worker share of a member must be above 0 and at most 1"},
		{"worker share over 1", []string{"--member-worker-share=1.5"}, 2, nil, "--member-worker-share"},
		{"negative request timeout", []string{"--member-request-timeout=-1s"}, 2, nil, "--member-request-timeout must not be negative"},
		{"no sync timeout", []string{"--member-sync-timeout=0s"}, 2, nil, "--member-sync-timeout must be positive"},
		{"negative reconcile timeout", []string{"--reconcile-timeout=-1s"}, 2, nil, "--reconcile-timeout must not be negative"},
		{"observation off", []string{"--reconcile-interval=0"}, 2, nil, "--reconcile-interval must be positive"},
		{"negative progress check", []string{"--progress-check-interval=-1s"}, 2, nil, "--progress-check-interval must be positive"},
		{"no readiness timeout", []string{"--deployment-readiness-timeout=0"}, 2, nil, "--deployment-readiness-timeout must be positive"},
		{"no retry backoff", []string{"--max-retry-backoff=0"}, 2, nil, "--max-retry-backoff must be positive"},
		{"state size never read", []string{"--state-size-interval=0"}, 2, nil, "--state-size-interval must be positive"},
		{"no workers", []string{"--max-concurrent-reconciles=0"}, 2, nil, "--max-concurrent-reconciles must be at least 1"},
		{"no probe workers", []string{"--health-workers=0"}, 2, nil, "--health-workers must be at least 1"},
		{"empty replica id", []string{"--replica-id="}, 2, nil, "--replica-id must not be empty"},
		{"bad timings", []string{"--retry-period=5s"}, 2, nil, "retry period"},
		{"bad transport", []string{"--flink-rest-transport=carrier-pigeon"}, 2, nil, "flink rest transport"},
		{"bad sampler", []string{"--otel-sampler=sometimes"}, 2, nil, "--otel-sampler"},
		{"no jar fetch timeout", []string{"--jar-fetch-timeout=0"}, 2, nil, "--jar-fetch-timeout must be positive"},
		{"no jar size", []string{"--jar-fetch-max-size=0"}, 2, nil, "--jar-fetch-max-size must be positive"},
		{"bad protocol", []string{"--otel-protocol=smoke"}, 2, nil, "--otel-protocol"},
		{"all problems at once", []string{"--reconcile-interval=0", "--member-qps=0"}, 2, nil, "--member-qps and --member-burst must be positive\n--reconcile-interval must be positive"},
		{"short claim", []string{"--member-claim-duration=1s"}, 2, nil, "--member-claim-duration must be at least 3s"},
		{"unreadable kubeconfig", []string{"--kubeconfig=/nonexistent/kubeconfig"}, 1, []string{"flink-hub dev"}, "hub cluster config"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// run may set the global loggers to errOut, and later tests'
			// goroutines keep logging there.
			var out, errOut framework.SyncBuffer
			if code := run(context.Background(), tc.args, &out, &errOut); code != tc.code {
				t.Fatalf("exit code %d, want %d (stderr %q)", code, tc.code, errOut.String())
			}
			for _, want := range tc.stdout {
				if !strings.Contains(out.String(), want) {
					t.Errorf("stdout %q lacks %q", out.String(), want)
				}
			}
			if !strings.Contains(errOut.String(), tc.stderrIn) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tc.stderrIn)
			}
		})
	}
}

// TestRunServesMembers runs the binary's wiring against a real hub and
// member: a registered member turns Ready and shows up in the fleet API.
func TestRunServesMembers(t *testing.T) {
	f := framework.StartFleetT(t, framework.FleetOptions{Members: 1, HubCRDDirs: []string{framework.CRDDir()}})
	ctx := context.Background()
	const ns = "flink-hub"
	if err := f.Hub.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "hub.kubeconfig")
	if err := os.WriteFile(kubeconfig, f.Hub.Kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	fleetAddr := framework.FreeAddr(t)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan int, 1)
	var stdout, stderr framework.SyncBuffer
	go func() {
		done <- run(runCtx, []string{
			"--kubeconfig", kubeconfig, "--namespace", ns, "--metrics-bind-address=0", "--health-probe-bind-address=0",
			"--fleet-bind-address", fleetAddr, "--health-probe-interval=200ms", "--health-debounce=1s",
		}, &stdout, &stderr)
	}()
	stopped := false
	stopHub := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("run exited %d; stderr:\n%s", code, stderr.String())
		}
	}
	t.Cleanup(stopHub) // before the fleet stops: cleanups run last-in first-out
	// run sets klog's and controller-runtime's global loggers, then prints
	// its version; the test's clients log through them only after that.
	framework.AwaitWithin(t, 30*time.Second, "hub started", func() error {
		if !strings.Contains(stdout.String(), "flink-hub ") {
			return fmt.Errorf("stdout: %q", stdout.String())
		}
		return nil
	})

	if err := f.RegisterMembers(ctx, ns); err != nil {
		t.Fatal(err)
	}
	reader, err := f.Hub.ServiceAccountToken(ctx, ns, "reader", framework.FleetReaderRules)
	if err != nil {
		t.Fatal(err)
	}
	framework.AwaitWithin(t, 30*time.Second, "member served", func() error {
		return checkServed(ctx, f, ns, fleetAddr, reader)
	})
	stopHub()
	if err := f.CheckNoRefusals(); err != nil {
		t.Errorf("the hub's member identity was refused: %v", err)
	}
}

// checkServed returns nil once member-1 is Ready and listed by the fleet API
// to the holder of token.
func checkServed(ctx context.Context, f *framework.Fleet, ns, fleetAddr, token string) error {
	mc := &hubv1alpha1.MemberCluster{}
	if err := f.Hub.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "member-1"}, mc); err != nil {
		return err
	}
	if !meta.IsStatusConditionTrue(mc.Status.Conditions, hubv1alpha1.ConditionReady) {
		return fmt.Errorf("member-1 not Ready: %+v", mc.Status.Conditions)
	}
	var list fleetapi.ClusterList
	if err := framework.FleetGet(ctx, fleetAddr, token, "/fleet/v1/clusters", &list); err != nil {
		return err
	}
	if len(list.Items) != 1 || list.Items[0].Name != "member-1" || !list.Items[0].Ready {
		return fmt.Errorf("fleet API clusters: %+v", list.Items)
	}
	return nil
}
