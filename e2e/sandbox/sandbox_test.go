package main

import (
	"context"
	"encoding/json"
	"fmt"
	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
	"github.com/flink-hub/flink-hub/internal/observability/jaegerquery"
)

// freeConsecutive finds n consecutive free loopback ports (the sandbox
// gives its replicas consecutive fleet API ports), failing the test if
// there are none.
func freeConsecutive(t *testing.T, n int) int {
	t.Helper()
	ports, err := framework.FreePorts(n)
	if err != nil {
		t.Fatal(err)
	}
	return ports[0]
}

// freePort finds a free loopback port (see framework.FreePorts).
func freePort(t *testing.T) int {
	t.Helper()
	return freeConsecutive(t, 1)
}

// descendants lists the process ids below pid, from /proc.
func descendants(pid int) []int {
	children := map[int][]int{}
	stats, _ := framework.ReadProcFiles("stat")
	for _, p := range stats {
		stat := p.Data
		// The parent pid is the second field after the command in parentheses.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 {
			ppid, _ := strconv.Atoi(fields[1])
			children[ppid] = append(children[ppid], p.PID)
		}
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			out = append(out, c)
			walk(c)
		}
	}
	walk(pid)
	return out
}

func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// A zombie has exited; it only waits for its parent to reap it.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// TestSandboxRunsTheExamplesAndStopsCleanly is a scripted `make sandbox`:
// every example reaches RUNNING (or STABLE for sessions) in the fleet API, a
// reconcile trace is in Jaeger; then, as a tenant with kubectl, every
// example with a job is suspended, resumed and upgraded in each upgrade mode
// it allows on member-1, and every example is deleted on both members (see
// exerciseExamples); SIGINT leaves no process behind, and the sandbox exits
// cleanly, which it does only if no member refused the hub anything.
func TestSandboxRunsTheExamplesAndStopsCleanly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var bins []string
	for _, pkg := range []string{"./e2e/sandbox", "./cmd/flink-hub", "./cmd/kubectl-flinkhub"} {
		bin, err := framework.Build(pkg)
		if err != nil {
			t.Fatal(err)
		}
		bins = append(bins, bin)
	}
	dir := t.TempDir()
	// On failure the hub replicas' and members' logs go to the test
	// output before the folder is removed.
	t.Cleanup(func() { logTailsOnFailure(t, dir, 80) })
	query, fleet, consolePort := freePort(t), freeConsecutive(t, 3), freePort(t)
	args := []string{"--dir", dir, "--hub", bins[1], "--plugin", bins[2], "--plain", "--refresh", "1s",
		"--jaeger-query-port", strconv.Itoa(query), "--otlp-http-port", strconv.Itoa(freePort(t)), "--otlp-grpc-port", strconv.Itoa(freePort(t)),
		"--fleet-port", strconv.Itoa(fleet), "--console-port", strconv.Itoa(consolePort)}
	sb, err := framework.StartProcess(dir, "sandbox", bins[0], args...)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Kill()

	all, err := examples.Load()
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := examples.LoadSessionJobs()
	if err != nil {
		t.Fatal(err)
	}
	waitExamplesRunning(t, ctx, sb, dir, fleet, 2*len(all), 2*len(jobs))

	jq := &jaegerquery.Client{BaseURL: fmt.Sprintf("http://127.0.0.1:%d", query)}
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		traces, err := jq.Find(ctx, jaegerquery.Query{Service: "flink-hub", Operation: "Reconcile FlinkDeployment", Limit: 1})
		return err == nil && len(traces) > 0, err
	}); err != nil {
		t.Fatalf("no reconcile trace in the sandbox's Jaeger: %v", err)
	}

	checkConsole(t, ctx, fmt.Sprintf("http://127.0.0.1:%d/console/", consolePort), dir, fleet, all, jobs, 2)

	exerciseExamples(t, ctx, dir, all, 2)

	// The members' tokens (written by `cluster add`) appear in no log line
	// and no exported span.
	checkNoTokenLeaked(t, ctx, dir, jq)

	interruptAndCheckNothingLeft(t, sb)
}

// logTailsOnFailure writes the last n lines of every log in dir to the
// test output when the test failed.
func logTailsOnFailure(t *testing.T, dir string, n int) {
	if !t.Failed() {
		return
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, path := range logs {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
		t.Logf("== last %d lines of %s ==\n%s", n, filepath.Base(path), strings.Join(lines[max(0, len(lines)-n):], "\n"))
	}
}

// waitExamplesRunning waits until the fleet API of the sandbox sb (in dir,
// on port fleet) lists want FlinkDeployments, all owned, STABLE and, with
// a job, RUNNING, and wantJobs session jobs, owned and RUNNING. It fails with the sandbox's output if not.
func waitExamplesRunning(t *testing.T, ctx context.Context, sb *framework.Process, dir string, fleet, want, wantJobs int) {
	t.Helper()
	var list fleetapi.DeploymentList
	err := framework.Eventually(ctx, 6*time.Minute, func(ctx context.Context) (bool, error) {
		if done, err := sb.Exited(); done {
			return false, fmt.Errorf("sandbox exited: %v", err)
		}
		// The sandbox writes a fleet reader's token into its kubeconfig.
		cfg, err := clientcmd.LoadFromFile(filepath.Join(dir, "kubeconfig"))
		if err != nil || cfg.AuthInfos["fleet-reader"] == nil {
			return false, nil
		}
		list = fleetapi.DeploymentList{}
		if err := framework.FleetGet(ctx, fmt.Sprintf("127.0.0.1:%d", fleet), cfg.AuthInfos["fleet-reader"].Token, "/fleet/v1/deployments", &list); err != nil {
			return false, nil
		}
		if len(list.Items) != want {
			return false, nil
		}
		for _, d := range list.Items {
			if d.LifecycleState != "STABLE" || (d.JobState != "" && d.JobState != "RUNNING") || d.Owner == "" {
				return false, nil
			}
		}
		// The example's session jobs run on their session cluster.
		var jobs fleetapi.DeploymentList
		if err := framework.FleetGet(ctx, fmt.Sprintf("127.0.0.1:%d", fleet), cfg.AuthInfos["fleet-reader"].Token, fleetv1.SessionJobsPath, &jobs); err != nil || len(jobs.Items) != wantJobs {
			return false, nil
		}
		for _, j := range jobs.Items {
			if j.JobState != "RUNNING" || j.Owner == "" {
				list.Items = append(list.Items, j)
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		log, _ := os.ReadFile(sb.LogPath)
		t.Fatalf("examples not all running in the fleet API: %v\nfleet: %+v\nsandbox output tail:\n%s", err, list.Items, tail(string(log), 3000))
	}
}

// checkNoTokenLeaked checks that the members' tokens (written by `cluster
// add`) appear in no log line in dir and no span exported to the Jaeger
// jq queries.
func checkNoTokenLeaked(t *testing.T, ctx context.Context, dir string, jq *jaegerquery.Client) {
	t.Helper()
	tokens := memberTokens(t, ctx, filepath.Join(dir, "kubeconfig"))
	if len(tokens) != 2 {
		t.Fatalf("want the tokens of 2 member registrations, got %d", len(tokens))
	}
	traces, err := jq.Find(ctx, jaegerquery.Query{Service: "flink-hub", Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	exported, _ := json.Marshal(traces)
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, tok := range tokens {
		if strings.Contains(string(exported), tok) {
			t.Errorf("a member token is in an exported span")
		}
		for _, l := range logs {
			if data, _ := os.ReadFile(l); strings.Contains(string(data), tok) {
				t.Errorf("a member token is in %s", filepath.Base(l))
			}
		}
	}
}

// interruptAndCheckNothingLeft sends the sandbox sb SIGINT and checks that
// it exits cleanly and none of its processes is left.
func interruptAndCheckNothingLeft(t *testing.T, sb *framework.Process) {
	t.Helper()
	children := descendants(sb.Pid())
	if len(children) < 7 { // 3 kube-apiservers, 3 etcds, Jaeger, 3 replicas
		t.Errorf("only %d child processes before SIGINT", len(children))
	}
	if err := sb.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := sb.Wait(2 * time.Minute); err != nil {
		// The sandbox prints what members refused the hub before it exits.
		log, _ := os.ReadFile(sb.LogPath)
		t.Fatalf("sandbox did not exit cleanly after SIGINT: %v\nsandbox output tail:\n%s", err, tail(string(log), 3000))
	}
	var left []int
	for _, pid := range children {
		if alive(pid) {
			left = append(left, pid)
		}
	}
	if len(left) > 0 {
		t.Fatalf("processes left after SIGINT: %v", left)
	}
}

// memberTokens reads the bearer tokens of the member kubeconfig Secrets
// in the sandbox's hub.
func memberTokens(t *testing.T, ctx context.Context, kubeconfig string) []string {
	t.Helper()
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig}, &clientcmd.ConfigOverrides{CurrentContext: "hub"}).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var secrets corev1.SecretList
	if err := c.List(ctx, &secrets, client.InNamespace(hubNamespace), client.MatchingLabels{memberconfig.SecretLabel: "true"}); err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for _, s := range secrets.Items {
		kc, err := clientcmd.Load(s.Data[memberconfig.SecretKey])
		if err != nil {
			t.Fatal(err)
		}
		for _, auth := range kc.AuthInfos {
			if auth.Token != "" {
				tokens = append(tokens, auth.Token)
			}
		}
	}
	return tokens
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
