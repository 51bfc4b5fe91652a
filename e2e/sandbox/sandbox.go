package main

import (
	"context"
	"fmt"
	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
)

const hubNamespace = "flink-hub"

// sandbox is everything the sandbox started, stopped in reverse order.
type sandbox struct {
	opts    *options
	out     io.Writer
	fleet   *framework.Fleet
	jaeger  *framework.Jaeger
	sim     *flinksim.Simulator
	simHTTP *httptest.Server
	// artifacts serves the session jobs' jars.
	artifacts *framework.Artifacts
	replicas  []*framework.Process
	// console is `kubectl flinkhub console` as the fleet reader.
	console *framework.Process
	// readerToken is a token of the hub ServiceAccount fleet-reader, which
	// may read the fleet API (the kubeconfig's context fleet-reader).
	readerToken string
}

// ConsoleURL is the web console's address.
func (s *sandbox) ConsoleURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/console/", s.opts.consolePort)
}

func (s *sandbox) say(format string, args ...any) {
	fmt.Fprintf(s.out, "==> "+format+"\n", args...)
}

func (s *sandbox) start(ctx context.Context) error {
	o := s.opts
	var err error
	s.say("starting a hub and %d member control planes (kube-apiserver + etcd each)", o.members)
	if s.fleet, err = framework.StartFleet(framework.FleetOptions{Members: o.members, HubCRDDirs: []string{framework.CRDDir()}}); err != nil {
		return err
	}
	kubeconfig, err := s.writeKubeconfigs()
	if err != nil {
		return err
	}
	s.say("starting Jaeger")
	if s.jaeger, err = framework.StartJaegerOn(ctx, framework.JaegerPorts{Query: o.jaegerQuery, OTLPHTTP: o.otlpHTTP, OTLPGRPC: o.otlpGRPC}); err != nil {
		return err
	}
	s.say("starting the Flink simulator")
	s.sim = flinksim.New(flinksim.Options{CheckpointInterval: 10 * time.Second})
	for _, m := range s.fleet.Members {
		if err := s.sim.AddMember(m.Name, m.Config); err != nil {
			return err
		}
	}
	s.simHTTP = httptest.NewServer(s.sim.Handler())
	s.say("Flink simulator at %s (make a JobManager fail: curl -X PUT -d '{\"errorStatus\":500}' %s%sfaults/<cluster>/<namespace>/<name>; an empty body heals it)", s.simHTTP.URL, s.simHTTP.URL, flinksim.AdminPrefix)
	s.artifacts = framework.StartArtifacts()

	if err := s.fleet.Hub.CreateNamespace(ctx, hubNamespace); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	if s.readerToken, err = s.fleet.Hub.ServiceAccountToken(ctx, hubNamespace, "fleet-reader", framework.FleetReaderRules); err != nil {
		return err
	}
	if err := addTokenContext(kubeconfig, "fleet-reader", "hub", s.readerToken); err != nil {
		return err
	}
	for _, m := range s.fleet.Members {
		s.say("registering %s: kubectl flinkhub cluster add %s", m.Name, m.Name)
		cmd := exec.CommandContext(ctx, o.pluginBin, "cluster", "add", m.Name, "--kubeconfig", kubeconfig, "--context", "hub", "-n", hubNamespace)
		if msg, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("cluster add %s: %v\n%s", m.Name, err, msg)
		}
	}

	if err := s.startReplicas(); err != nil {
		return err
	}
	if err := s.applyExamples(ctx); err != nil {
		return err
	}
	s.say("starting the web console: kubectl flinkhub console --context fleet-reader")
	if s.console, err = framework.StartProcess(o.dir, "console", o.pluginBin, "console",
		"--kubeconfig", kubeconfig, "--context", "fleet-reader", "--address", fmt.Sprintf("127.0.0.1:%d", o.consolePort),
		"--fleet-url", fmt.Sprintf("https://127.0.0.1:%d", o.fleetPort), "--fleet-insecure-skip-tls-verify"); err != nil {
		return err
	}
	s.sayReady(kubeconfig)
	return nil
}

// startReplicas starts the hub replicas as processes.
func (s *sandbox) startReplicas() error {
	o := s.opts
	hubKubeconfig := filepath.Join(o.dir, "hub.kubeconfig")
	for i := range o.replicas {
		id := fmt.Sprintf("hub-%d", i)
		s.say("starting hub replica %s (log %s)", id, filepath.Join(o.dir, id+".log"))
		p, err := framework.StartProcess(o.dir, id, o.hubBin,
			"--kubeconfig", hubKubeconfig, "--namespace", hubNamespace, "--replica-id", id,
			"--metrics-bind-address", "0", "--health-probe-bind-address", "0",
			"--fleet-bind-address", fmt.Sprintf("127.0.0.1:%d", o.fleetPort+i),
			"--health-debounce", "5s", "--progress-check-interval", "2s",
			"--flink-rest-transport", "url", "--flink-rest-url-template", s.simHTTP.URL+"/{{.Cluster}}/{{.Namespace}}/{{.Name}}/",
			"--otel-endpoint", s.jaeger.OTLPHTTP, "--trace-query-url", s.jaeger.QueryURL,
			// The session jobs' artifact server is on loopback.
			"--jar-fetch-allow-private-networks")
		if err != nil {
			return err
		}
		s.replicas = append(s.replicas, p)
	}
	return nil
}

// sayReady prints where everything is and what to try.
func (s *sandbox) sayReady(kubeconfig string) {
	o := s.opts
	s.say("ready. Web console: %s", s.ConsoleURL())
	s.say("In another shell:")
	fmt.Fprintf(s.out, "      export KUBECONFIG=%s\n", kubeconfig)
	fmt.Fprintf(s.out, "      kubectl --context member-1 get flinkdeployments -A\n")
	fmt.Fprintf(s.out, "      %s get deployments --context fleet-reader --fleet-url https://127.0.0.1:%d --fleet-insecure-skip-tls-verify\n", o.pluginBin, o.fleetPort)
	fmt.Fprintf(s.out, "      %s get sessionjobs --context fleet-reader --fleet-url https://127.0.0.1:%d --fleet-insecure-skip-tls-verify\n", o.pluginBin, o.fleetPort)
	fmt.Fprintf(s.out, "      %s shards --context hub\n", o.pluginBin)
	fmt.Fprintf(s.out, "      %s trace member-1/default/basic-example --jaeger-url %s\n", o.pluginBin, s.jaeger.QueryURL)
	fmt.Fprintf(s.out, "    Jaeger query API: %s (this build of Jaeger has no web UI: the console draws the traces)\n", s.jaeger.QueryURL)
	fmt.Fprintf(s.out, "    kubeconfigs: %s (contexts hub, member-1..%d, and fleet-reader: a hub token that may read the fleet API)\n", kubeconfig, o.members)
	fmt.Fprintf(s.out, "    Ctrl-C stops everything.\n\n")
}

// writeKubeconfigs writes one kubeconfig per cluster and a merged one with
// a context per cluster, and returns the merged one's path.
func (s *sandbox) writeKubeconfigs() (string, error) {
	merged := clientcmdapi.NewConfig()
	planes := append([]*framework.ControlPlane{s.fleet.Hub}, s.fleet.Members...)
	for _, cp := range planes {
		name := cp.Name
		if err := os.WriteFile(filepath.Join(s.opts.dir, name+".kubeconfig"), cp.Kubeconfig, 0o600); err != nil {
			return "", err
		}
		cfg, err := clientcmd.Load(cp.Kubeconfig)
		if err != nil {
			return "", err
		}
		ctx := cfg.Contexts[cfg.CurrentContext]
		merged.Clusters[name] = cfg.Clusters[ctx.Cluster]
		merged.AuthInfos[name] = cfg.AuthInfos[ctx.AuthInfo]
		merged.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: "default"}
	}
	merged.CurrentContext = "hub"
	path := filepath.Join(s.opts.dir, "kubeconfig")
	return path, clientcmd.WriteToFile(*merged, path)
}

// addTokenContext adds to the kubeconfig at path a context name on the
// cluster of context cluster, as the holder of token.
func addTokenContext(path, name, cluster, token string) error {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return err
	}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: cluster, AuthInfo: name, Namespace: hubNamespace}
	return clientcmd.WriteToFile(*cfg, path)
}

// applyExamples creates every upstream example FlinkDeployment in the
// default namespace of every member, with the "flink" service account the
// examples run as.
func (s *sandbox) applyExamples(ctx context.Context) error {
	all, err := examples.Load()
	if err != nil {
		return err
	}
	for _, m := range s.fleet.Members {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "flink"}}
		if err := m.Client.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		s.say("applying %d example FlinkDeployments to %s", len(all), m.Name)
		for _, ex := range all {
			fd := ex.Typed.DeepCopy()
			fd.Namespace = "default"
			// The hub installs the CRD in the member once it engages it.
			err := framework.Eventually(ctx, 2*time.Minute, func(ctx context.Context) (bool, error) {
				err := m.Client.Create(ctx, fd.DeepCopy())
				return err == nil || apierrors.IsAlreadyExists(err), nil
			})
			if err != nil {
				return fmt.Errorf("apply %s to %s: %w", ex.Name, m.Name, err)
			}
		}
	}
	return s.applySessionJobs(ctx)
}

// applySessionJobs applies the upstream example's session jobs to every
// member, their jars served by the sandbox's artifact server.
func (s *sandbox) applySessionJobs(ctx context.Context) error {
	jobs, err := examples.LoadSessionJobs()
	if err != nil {
		return err
	}
	for _, m := range s.fleet.Members {
		s.say("applying %d example FlinkSessionJobs to %s", len(jobs), m.Name)
		for _, ex := range jobs {
			job := ex.Typed.DeepCopy()
			job.Namespace = "default"
			job.Spec.Job.JarURI = s.artifacts.Put("/jars/"+job.Name+".jar", []byte("PK\x03\x04"+job.Name))
			if err := m.Client.Create(ctx, job); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("apply %s to %s: %w", ex.Name, m.Name, err)
			}
		}
	}
	return nil
}

// watch prints the fleet table from the first replica's fleet API until
// ctx ends.
func (s *sandbox) watch(ctx context.Context) {
	ticker := time.NewTicker(s.opts.refresh)
	defer ticker.Stop()
	addr := fmt.Sprintf("127.0.0.1:%d", s.opts.fleetPort)
	for {
		table, err := fleetTable(ctx, addr, s.readerToken)
		if err != nil {
			table = "fleet API: " + err.Error() + "\n"
		}
		if !s.opts.quiet {
			fmt.Fprint(s.out, "\033[H\033[2J")
		}
		fmt.Fprintf(s.out, "flink-hub sandbox, %s (Ctrl-C stops); web console %s\n\n%s\n", time.Now().Format("15:04:05"), s.ConsoleURL(), table)
		for _, r := range s.replicas {
			if done, err := r.Exited(); done {
				fmt.Fprintf(s.out, "replica %s exited: %v (see %s)\n", r.Name, err, r.LogPath)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func fleetTable(ctx context.Context, addr, token string) (string, error) {
	var list, jobs fleetapi.DeploymentList
	if err := framework.FleetGet(ctx, addr, token, fleetv1.DeploymentsPath, &list); err != nil {
		return "", err
	}
	if err := framework.FleetGet(ctx, addr, token, fleetv1.SessionJobsPath, &jobs); err != nil {
		return "", err
	}
	for _, j := range jobs.Items {
		j.Mode = "job of " + j.SessionCluster
		list.Items = append(list.Items, j)
	}
	sort.Slice(list.Items, func(i, j int) bool {
		return fleetindex.KeyOf(&list.Items[i]).String() < fleetindex.KeyOf(&list.Items[j]).String()
	})
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CLUSTER\tNAMESPACE\tNAME\tMODE\tLIFECYCLE\tJOB\tSHARD\tOWNER\tERROR")
	for _, d := range list.Items {
		shard := ""
		if d.Shard != nil {
			shard = strconv.Itoa(*d.Shard)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Cluster, d.Namespace, d.Name, d.Mode, d.LifecycleState, d.JobState, shard, d.Owner, d.ErrorLine())
	}
	_ = w.Flush()
	return b.String(), nil
}

// stop stops everything started, replicas first (they drain and release
// their shards), control planes last. Before the control planes go (their
// audit logs go with them) it checks that no member refused the hub's
// identity anything: the RBAC `cluster add` grants must cover all the hub
// did. It prints every refusal and returns an error naming them.
func (s *sandbox) stop() error {
	fmt.Fprintln(s.out, "\n==> stopping")
	if s.console != nil {
		if err := s.console.Stop(5 * time.Second); err != nil {
			fmt.Fprintf(s.out, "console: %v\n", err)
		}
	}
	for _, r := range s.replicas {
		if err := r.Stop(20 * time.Second); err != nil {
			fmt.Fprintf(s.out, "%s: %v\n", r.Name, err)
		}
	}
	if s.sim != nil {
		s.sim.Stop()
	}
	if s.artifacts != nil {
		s.artifacts.Close()
	}
	if s.simHTTP != nil {
		s.simHTTP.Close()
	}
	if s.jaeger != nil {
		_ = s.jaeger.Stop()
	}
	var refused error
	if s.fleet != nil {
		if refused = s.fleet.CheckNoRefusals(); refused != nil {
			fmt.Fprintf(s.out, "==> members refused the hub (%s):\n%s", framework.HubUser, countLines(refused.Error()))
			refused = fmt.Errorf("members refused the hub's identity %s requests; its RBAC from `cluster add` is short", framework.HubUser)
		} else {
			fmt.Fprintf(s.out, "==> no member refused the hub (%s) anything\n", framework.HubUser)
		}
		if err := s.fleet.Stop(); err != nil {
			fmt.Fprintln(s.out, err)
		}
	}
	fmt.Fprintln(s.out, "==> stopped")
	return refused
}

// countLines lists the distinct lines of s in first-seen order, each with
// how often it came: a refused request is usually retried many times.
func countLines(s string) string {
	var order []string
	count := map[string]int{}
	for _, l := range strings.Split(s, "\n") {
		if count[l] == 0 {
			order = append(order, l)
		}
		count[l]++
	}
	var b strings.Builder
	for _, l := range order {
		fmt.Fprintf(&b, "    %s (%d times)\n", l, count[l])
	}
	return b.String()
}
