package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
	"github.com/flink-hub/flink-hub/internal/clusters/registration"
	"github.com/flink-hub/flink-hub/internal/problem"
)

const hubNamespace = "flink-hub"

var (
	fleet *framework.Fleet
	// kubeconfigPath has the contexts hub, member (admin), forbidden (a
	// member identity without rights) and dead (nothing listens).
	kubeconfigPath string
	// fleetURL is the running hub's fleet API.
	fleetURL string
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	var err error
	fleet, err = framework.StartFleet(framework.FleetOptions{Members: 1, HubCRDDirs: []string{framework.CRDDir()}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := fleet.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	dir, err := os.MkdirTemp("", "kubectl-flinkhub-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := setup(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, err := startHub(ctx)
	if err != nil {
		cancel()
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	cancel() // stop the hub before the control planes
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	return code
}

// setup writes the test kubeconfig and creates the hub namespace.
func setup(dir string) error {
	ctx := context.Background()
	if err := fleet.Hub.CreateNamespace(ctx, hubNamespace); err != nil {
		return err
	}
	member := fleet.Members[0]
	// A member identity with no rights at all.
	if err := member.CreateNamespace(ctx, "nobody"); err != nil {
		return err
	}
	if err := member.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "nobody", Namespace: "nobody"}}); err != nil {
		return err
	}
	tr, err := kubernetes.NewForConfigOrDie(member.Config).CoreV1().ServiceAccounts("nobody").
		CreateToken(ctx, "nobody", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	// Hub identities: one bound to the chart's fleet reader rules, one
	// with no rights.
	reader, err := fleet.Hub.ServiceAccountToken(ctx, hubNamespace, "reader", framework.FleetReaderRules)
	if err != nil {
		return err
	}
	hubNobody, err := fleet.Hub.ServiceAccountToken(ctx, hubNamespace, "nobody", nil)
	if err != nil {
		return err
	}
	proxyOnly, err := fleet.Hub.ServiceAccountToken(ctx, hubNamespace, "proxy-only", framework.FleetReaderRules[1:])
	if err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	add := func(name string, kubeconfig []byte, server, token string) error {
		src, err := clientcmd.Load(kubeconfig)
		if err != nil {
			return err
		}
		cur := src.Contexts[src.CurrentContext]
		cluster, user := *src.Clusters[cur.Cluster], *src.AuthInfos[cur.AuthInfo]
		if server != "" {
			cluster.Server = server
		}
		if token != "" {
			user = clientcmdapi.AuthInfo{Token: token}
		}
		cfg.Clusters[name], cfg.AuthInfos[name] = &cluster, &user
		cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
		return nil
	}
	for _, err := range []error{
		add("hub", fleet.Hub.Kubeconfig, "", ""),
		add("reader", fleet.Hub.Kubeconfig, "", reader),
		add("hub-nobody", fleet.Hub.Kubeconfig, "", hubNobody),
		add("proxy-only", fleet.Hub.Kubeconfig, "", proxyOnly),
		add("member", member.Kubeconfig, "", ""),
		add("forbidden", member.Kubeconfig, "", tr.Status.Token),
		add("dead", member.Kubeconfig, "https://127.0.0.1:1", ""),
	} {
		if err != nil {
			return err
		}
	}
	cfg.CurrentContext = "hub"
	kubeconfigPath = filepath.Join(dir, "kubeconfig")
	return clientcmd.WriteToFile(*cfg, kubeconfigPath)
}

// startHub runs the hub's member machinery in-process.
func startHub(ctx context.Context) (<-chan error, error) {
	opts := clusters.DefaultOptions()
	opts.Namespace = hubNamespace
	opts.ProbeInterval = 200 * time.Millisecond
	opts.Debounce = time.Second
	opts.CRDRetryInterval = 500 * time.Millisecond
	opts.FleetAddress = "127.0.0.1:0"
	// Each test's hub registers the same members: a stopped hub's claims
	// lapse before the next test needs them.
	opts.ClaimDuration = 3 * time.Second
	skip := true
	hub, err := clusters.New(fleet.Hub.Config, opts, manager.Options{
		Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Controller: ctrlconfig.Controller{SkipNameValidation: &skip},
	})
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- hub.Manager.Start(ctx) }()
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	addr, err := hub.Fleet.Addr(waitCtx)
	if err != nil {
		return nil, err
	}
	fleetURL = "https://" + addr
	return done, nil
}

// getDeployments runs `get deployments` straight against the hub's fleet API
// as the fleet reader.
func getDeployments(args ...string) (code int, stdout, stderr string) {
	return plugin(append([]string{"--context", "reader", "get", "deployments", "--fleet-url", fleetURL, "--fleet-insecure-skip-tls-verify"}, args...)...)
}

// plugin runs the plugin with the test kubeconfig.
func plugin(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"--kubeconfig", kubeconfigPath}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	framework.Await(t, what, cond)
}

func memberSecrets(t *testing.T) []corev1.Secret {
	t.Helper()
	var list corev1.SecretList
	if err := fleet.Hub.Client.List(context.Background(), &list, client.InNamespace(hubNamespace), client.MatchingLabels{memberconfig.SecretLabel: "true"}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func TestClusterAddRegistersAWorkingMember(t *testing.T) {
	ctx := context.Background()
	member := fleet.Members[0]
	if code, out, errOut := plugin("cluster", "add", "member", "--name", "m1"); code != 0 {
		t.Fatalf("cluster add exited %d: %s %s", code, out, errOut)
	}
	eventually(t, "m1 Ready with the CRD installed by its own identity", func() error {
		mc := &hubv1alpha1.MemberCluster{}
		if err := fleet.Hub.Client.Get(ctx, client.ObjectKey{Namespace: hubNamespace, Name: "m1"}, mc); err != nil {
			return err
		}
		for _, c := range []string{hubv1alpha1.ConditionReady, hubv1alpha1.ConditionCRDInstalled} {
			if !meta.IsStatusConditionTrue(mc.Status.Conditions, c) {
				return fmt.Errorf("%s not True: %+v", c, mc.Status.Conditions)
			}
		}
		return nil
	})

	if err := member.CreateNamespace(ctx, "apps"); err != nil {
		t.Fatal(err)
	}
	fd := &flinkv1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Name: "wordcount", Namespace: "apps"},
		Spec: flinkv1beta1.FlinkDeploymentSpec{Image: "flink:2.2", FlinkVersion: "v2_2"}}
	if err := member.Client.Create(ctx, fd); err != nil {
		t.Fatal(err)
	}
	t.Run("get deployments lists the member's FlinkDeployments", func(t *testing.T) { checkGetDeploymentsLists(t) })
	t.Run("get sessionjobs lists session jobs, counted on their cluster", func(t *testing.T) { checkGetSessionJobs(t, ctx, member) })

	t.Run("get config shows the effective configuration", func(t *testing.T) { checkGetConfig(t, ctx) })

	t.Run("get deployments shows status.error", func(t *testing.T) { checkGetDeploymentsShowsError(t, ctx, member, fd) })

	t.Run("cluster list shows the member", func(t *testing.T) { checkClusterListShowsMember(t) })

	t.Run("cluster add again upgrades the rules of an older registration in place", func(t *testing.T) { checkAddUpgradesOldRules(t, ctx, member) })

	t.Run("the hub identity is confined to its ClusterRole", func(t *testing.T) { checkHubIdentityConfined(t, ctx, member) })

	t.Run("a second add updates, never duplicates", func(t *testing.T) { checkSecondAddUpdates(t, member) })
	t.Run("adopt marks the registration for the hand-over", checkAdopt)

	t.Run("remove deletes the registration and revokes the hub in the member", func(t *testing.T) { checkRemoveRevokes(t, ctx, member) })
}

// checkGetDeploymentsLists: get deployments lists the member's FlinkDeployments.
func checkGetDeploymentsLists(t *testing.T) {
	eventually(t, "wordcount listed", func() error {
		code, out, errOut := getDeployments("-o", "json")
		if code != 0 {
			return fmt.Errorf("exit %d: %s", code, errOut)
		}
		var items []fleetindex.Deployment
		if err := json.Unmarshal([]byte(out), &items); err != nil {
			return err
		}
		if len(items) != 1 || fleetindex.KeyOf(&items[0]).String() != "m1/apps/wordcount" || items[0].Mode != "native" {
			return fmt.Errorf("deployments %+v", items)
		}
		return nil
	})
	code, out, errOut := getDeployments("--cluster", "m1")
	if code != 0 || !strings.Contains(out, "CLUSTER") || !strings.Contains(out, "wordcount") {
		t.Fatalf("table output (exit %d): %s %s", code, out, errOut)
	}
	if code, out, _ := getDeployments("--cluster", "other"); code != 0 || strings.Contains(out, "wordcount") {
		t.Fatalf("--cluster other listed m1's deployment: %s", out)
	}
	if code, _, errOut := getDeployments("--cluster", "m1", "--all-clusters"); code == 0 || !strings.Contains(errOut, "exclude each other") {
		t.Fatalf("--cluster with --all-clusters: exit %d %s", code, errOut)
	}
}

// checkGetSessionJobs: a session job of the session cluster wordcount is
// listed by get sessionjobs, and get deployments counts it on wordcount.
func checkGetSessionJobs(t *testing.T, ctx context.Context, member *framework.ControlPlane) {
	job := &flinkv1beta1.FlinkSessionJob{ObjectMeta: metav1.ObjectMeta{Name: "wordcount", Namespace: "apps"},
		Spec: flinkv1beta1.FlinkSessionJobSpec{DeploymentName: "wordcount", Job: &flinkv1beta1.JobSpec{JarURI: "https://artifacts.example/wc.jar"}}}
	if err := member.Client.Create(ctx, job); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = member.Client.Delete(context.Background(), job) })
	eventually(t, "the session job listed and counted", func() error {
		code, out, errOut := plugin("--context", "reader", "get", "sessionjobs", "--fleet-url", fleetURL, "--fleet-insecure-skip-tls-verify", "-o", "json")
		var jobs []fleetindex.Deployment
		if err := json.Unmarshal([]byte(out), &jobs); code != 0 || err != nil {
			return fmt.Errorf("exit %d, %v: %s", code, err, errOut)
		}
		if len(jobs) != 1 || jobs[0].Kind != fleetv1.KindFlinkSessionJob || jobs[0].SessionCluster != "wordcount" || fleetindex.KeyOf(&jobs[0]).String() != "m1/apps/sessionjob:wordcount" {
			return fmt.Errorf("session jobs %+v", jobs)
		}
		code, out, errOut = getDeployments("-o", "json")
		var items []fleetindex.Deployment
		if err := json.Unmarshal([]byte(out), &items); code != 0 || err != nil {
			return fmt.Errorf("exit %d, %v: %s", code, err, errOut)
		}
		if len(items) != 1 || items[0].SessionJobs != 1 {
			return fmt.Errorf("deployments %+v, want wordcount with one session job", items)
		}
		// The hub's own counts hold both, as the lists do.
		code, out, errOut = plugin("--context", "reader", "get", "summary", "--fleet-url", fleetURL, "--fleet-insecure-skip-tls-verify", "-o", "json")
		var summary fleetv1.Summary
		if err := json.Unmarshal([]byte(out), &summary); code != 0 || err != nil {
			return fmt.Errorf("summary: exit %d, %v: %s", code, err, errOut)
		}
		if len(summary.Clusters) != 1 || summary.Clusters[0].Cluster != "m1" || summary.Clusters[0].Total != 2 {
			return fmt.Errorf("summary %+v, want m1 with a FlinkDeployment and a session job", summary)
		}
		return nil
	})
	code, out, errOut := plugin("--context", "reader", "get", "sessionjobs", "--fleet-url", fleetURL, "--fleet-insecure-skip-tls-verify")
	if code != 0 || !strings.Contains(out, "SESSION CLUSTER") || !strings.Contains(out, "wordcount") {
		t.Fatalf("table (exit %d): %s %s", code, out, errOut)
	}
}

// checkGetConfig: with a fleet default, get config shows wordcount's
// effective configuration with each key's source; a malformed name is
// refused.
func checkGetConfig(t *testing.T, ctx context.Context) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: hubNamespace, Name: "fleet-defaults", Labels: map[string]string{"flink-hub.io/defaults": "true"}},
		Data: map[string]string{"flink-conf.yaml": "kubernetes.operator.savepoint.history.max.count: \"4\"\n"}}
	if err := fleet.Hub.Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fleet.Hub.Client.Delete(context.Background(), cm) })
	eventually(t, "the fleet default shown", func() error {
		code, out, errOut := plugin("--context", "reader", "get", "config", "m1/apps/wordcount", "--fleet-url", fleetURL, "--fleet-insecure-skip-tls-verify")
		if code != 0 {
			return fmt.Errorf("exit %d: %s", code, errOut)
		}
		if !strings.Contains(out, "SOURCE") || !strings.Contains(out, "kubernetes.operator.savepoint.history.max.count") || !strings.Contains(out, "fleet default") {
			return fmt.Errorf("table:\n%s", out)
		}
		return nil
	})
	if code, _, errOut := plugin("--context", "reader", "get", "config", "m1/apps", "--fleet-url", fleetURL, "--fleet-insecure-skip-tls-verify"); code == 0 || !strings.Contains(errOut, "<cluster>/<namespace>/<name>") {
		t.Errorf("a malformed name: exit %d, %s", code, errOut)
	}
}

// checkGetDeploymentsShowsError: get deployments shows status.error.
func checkGetDeploymentsShowsError(t *testing.T, ctx context.Context, member *framework.ControlPlane, fd *flinkv1beta1.FlinkDeployment) {
	const msg = "Job failed: java.lang.IllegalStateException: bad record at offset 42 in partition 7 of topic orders"
	got := &flinkv1beta1.FlinkDeployment{}
	if err := member.Client.Get(ctx, client.ObjectKeyFromObject(fd), got); err != nil {
		t.Fatal(err)
	}
	// status.error as the hub writes it: the Apache operator's
	// exception JSON; the table shows its message.
	statusError := problem.Encode(problem.New(problem.JobFailed, msg))
	got.Status.Error, got.Status.LifecycleState, got.Status.JobStatus.State = statusError, flinkv1beta1.LifecycleFailed, flinkv1beta1.JobFailed
	if err := member.Client.Status().Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the error in the table", func() error {
		code, out, errOut := getDeployments("--state", "FAILED")
		if code != 0 {
			return fmt.Errorf("exit %d: %s", code, errOut)
		}
		if want := msg[:57] + "..."; !strings.Contains(out, "ERROR") || !strings.Contains(out, want) || strings.Contains(out, "topic orders") {
			return fmt.Errorf("table lacks the ERROR column with %q:\n%s", want, out)
		}
		return nil
	})
	code, out, errOut := getDeployments("-o", "json")
	var items []fleetindex.Deployment
	if err := json.Unmarshal([]byte(out), &items); code != 0 || err != nil || len(items) != 1 || items[0].Error != msg || items[0].Reason != string(problem.JobFailed) {
		t.Fatalf("json (exit %d, %v): %s %s", code, err, out, errOut)
	}
}

// checkClusterListShowsMember: cluster list shows the member.
func checkClusterListShowsMember(t *testing.T) {
	code, out, errOut := plugin("cluster", "list")
	if code != 0 || !strings.Contains(out, "m1") || !strings.Contains(out, "True") || !strings.Contains(out, "Reachable") ||
		!strings.Contains(out, "Current") || !strings.Contains(out, "in 29d") {
		t.Fatalf("cluster list (exit %d): %s %s", code, out, errOut)
	}
}

// checkAddUpgradesOldRules: cluster add again upgrades the rules of an older registration in place.
func checkAddUpgradesOldRules(t *testing.T, ctx context.Context, member *framework.ControlPlane) {
	// A registration by an older version: its ClusterRole lacks
	// deletecollection on ConfigMaps and its Secret records no rules
	// revision.
	role := &rbacv1.ClusterRole{}
	if err := member.Client.Get(ctx, client.ObjectKey{Name: "flink-hub:flink-hub:flink-hub"}, role); err != nil {
		t.Fatal(err)
	}
	old := role.DeepCopy()
	for i, r := range old.Rules {
		if slices.Contains(r.Resources, "configmaps") {
			old.Rules[i].Verbs = slices.DeleteFunc(slices.Clone(r.Verbs), func(v string) bool { return v == "deletecollection" })
		}
	}
	delete(old.Annotations, registration.RulesRevisionAnnotation)
	if err := member.Client.Update(ctx, old); err != nil {
		t.Fatal(err)
	}
	secret := memberSecrets(t)[0]
	delete(secret.Annotations, registration.RulesRevisionAnnotation)
	if err := fleet.Hub.Client.Update(ctx, &secret); err != nil {
		t.Fatal(err)
	}
	eventually(t, "cluster list shows m1's rules as outdated", func() error {
		if _, out, _ := plugin("cluster", "list"); !strings.Contains(out, "Outdated") {
			return fmt.Errorf("no Outdated in:\n%s", out)
		}
		return nil
	})

	if code, out, errOut := plugin("cluster", "add", "member", "--name", "m1"); code != 0 {
		t.Fatalf("cluster add exited %d: %s %s", code, out, errOut)
	}
	if err := member.Client.Get(ctx, client.ObjectKey{Name: "flink-hub:flink-hub:flink-hub"}, role); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(role.Rules, registration.MemberRules(true)) {
		t.Fatalf("cluster add left the old rules: %+v", role.Rules)
	}
	eventually(t, "cluster list shows m1's rules as current", func() error {
		if _, out, _ := plugin("cluster", "list"); !strings.Contains(out, "Current") || strings.Contains(out, "Outdated") {
			return fmt.Errorf("rules not Current in:\n%s", out)
		}
		return nil
	})
}

// checkHubIdentityConfined: the hub identity is confined to its ClusterRole.
func checkHubIdentityConfined(t *testing.T, ctx context.Context, member *framework.ControlPlane) {
	secrets := memberSecrets(t)
	if len(secrets) != 1 {
		t.Fatalf("%d member Secrets in the hub, want 1", len(secrets))
	}
	cfg, err := memberconfig.FromSecret(&secrets[0])
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: framework.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.List(ctx, &flinkv1beta1.FlinkDeploymentList{}); err != nil {
		t.Fatalf("the hub identity cannot list FlinkDeployments: %v", err)
	}
	refused := []struct {
		what string
		do   func() error
	}{
		{"list Secrets", func() error { return c.List(ctx, &corev1.SecretList{}) }},
		{"get a Secret", func() error { return c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "x"}, &corev1.Secret{}) }},
		{"create a Namespace", func() error {
			return c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "hub-made"}})
		}},
		{"create a FlinkDeployment", func() error {
			return c.Create(ctx, &flinkv1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "apps"}})
		}},
	}
	for _, r := range refused {
		if err := r.do(); !apierrors.IsForbidden(err) {
			t.Errorf("%s: got %v, want Forbidden", r.what, err)
		}
	}
}

// checkSecondAddUpdates: a second add updates, never duplicates.
func checkSecondAddUpdates(t *testing.T, member *framework.ControlPlane) {
	before := memberSecrets(t)[0]
	if code, out, errOut := plugin("cluster", "add", "member", "--name", "m1"); code != 0 {
		t.Fatalf("second cluster add exited %d: %s %s", code, out, errOut)
	}
	after := memberSecrets(t)
	if len(after) != 1 || after[0].UID != before.UID {
		t.Fatalf("second add left %d Secrets (same object: %v)", len(after), len(after) == 1 && after[0].UID == before.UID)
	}
	if bytes.Equal(after[0].Data[memberconfig.SecretKey], before.Data[memberconfig.SecretKey]) {
		t.Fatal("second add did not issue a fresh token")
	}
}

// checkAdopt: `adopt m1` marks m1's registration with the hand-over time
// (the next whole second) and says so; adopting a member that is not
// registered is refused, naming what to do.
func checkAdopt(t *testing.T) {
	before := time.Now()
	code, out, errOut := plugin("adopt", "m1")
	if code != 0 || !strings.Contains(out, `member cluster "m1": the hub takes over`) {
		t.Fatalf("adopt exited %d: %s %s", code, out, errOut)
	}
	secrets := memberSecrets(t)
	if len(secrets) != 1 {
		t.Fatalf("%d member Secrets", len(secrets))
	}
	at, err := time.Parse(time.RFC3339, secrets[0].Annotations[hubv1alpha1.AdoptBeforeAnnotation])
	if err != nil || at.Before(before) || at.After(time.Now().Add(2*time.Second)) || at.Nanosecond() != 0 {
		t.Errorf("adopt-before %q (%v): want the next whole second after %s", secrets[0].Annotations[hubv1alpha1.AdoptBeforeAnnotation], err, before.UTC().Format(time.RFC3339Nano))
	}
	if code, _, errOut := plugin("adopt", "not-registered"); code == 0 || !strings.Contains(errOut, "register it with 'cluster add' first") {
		t.Errorf("adopting an unregistered member: exit %d %s", code, errOut)
	}
}

// checkRemoveRevokes: remove deletes the registration and revokes the hub in the member.
func checkRemoveRevokes(t *testing.T, ctx context.Context, member *framework.ControlPlane) {
	cfg, err := memberconfig.FromSecret(&memberSecrets(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	hubIdentity, err := client.New(cfg, client.Options{Scheme: framework.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := plugin("cluster", "remove", "m1", "--member-context", "member")
	if code != 0 || !strings.Contains(out, "deleted ServiceAccount flink-hub") || !strings.Contains(out, "deleted ClusterRoleBinding") {
		t.Fatalf("cluster remove exited %d: %s %s", code, out, errOut)
	}
	for _, obj := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "flink-hub", Name: "flink-hub"}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "flink-hub:flink-hub:flink-hub"}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "flink-hub:flink-hub:flink-hub"}},
	} {
		if err := member.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); !apierrors.IsNotFound(err) {
			t.Errorf("%T %s left in the member: %v", obj, obj.GetName(), err)
		}
	}
	// The hub's token died with its ServiceAccount.
	eventually(t, "the hub's token is refused", func() error {
		if err := hubIdentity.List(ctx, &flinkv1beta1.FlinkDeploymentList{}); !apierrors.IsUnauthorized(err) {
			return fmt.Errorf("listing with the removed identity: %v, want Unauthorized", err)
		}
		return nil
	})
	eventually(t, "m1 gone", func() error {
		err := fleet.Hub.Client.Get(ctx, client.ObjectKey{Namespace: hubNamespace, Name: "m1"}, &hubv1alpha1.MemberCluster{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("MemberCluster m1: %v", err)
		}
		return nil
	})
	if code, _, errOut := plugin("cluster", "remove", "m1"); code == 0 || !strings.Contains(errOut, "not registered") {
		t.Fatalf("removing twice: exit %d %s", code, errOut)
	}
}

func TestClusterAddRefusals(t *testing.T) {
	cases := []struct {
		name, context, stderr string
	}{
		{"unreachable", "dead", "member is unreachable"},
		{"forbidden", "forbidden", "forbidden"},
		{"unknown-context", "nope", `context "nope"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := plugin("cluster", "add", tc.context, "--name", "refused-"+tc.name)
			if code == 0 {
				t.Fatal("cluster add succeeded")
			}
			if !strings.Contains(errOut, tc.stderr) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Fatalf("stderr is not one line with %q: %q", tc.stderr, errOut)
			}
			for _, s := range memberSecrets(t) {
				if s.Name == "refused-"+tc.name {
					t.Fatal("a failed add left a Secret in the hub")
				}
			}
		})
	}
}

func TestClusterAddDryRun(t *testing.T) {
	code, out, errOut := plugin("cluster", "add", "member", "--name", "dry", "--member-namespace", "dry-ns", "--dry-run")
	if code != 0 {
		t.Fatalf("dry run exited %d: %s", code, errOut)
	}
	for _, want := range []string{"kind: Namespace", "kind: ServiceAccount", "kind: ClusterRole", "kind: ClusterRoleBinding", "kind: Secret", "services/proxy"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q", want)
		}
	}
	err := fleet.Members[0].Client.Get(context.Background(), client.ObjectKey{Name: "dry-ns"}, &corev1.Namespace{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("dry run touched the member: %v", err)
	}
	for _, s := range memberSecrets(t) {
		if s.Name == "dry" {
			t.Fatal("dry run wrote a Secret into the hub")
		}
	}
}

func TestMemberName(t *testing.T) {
	for in, want := range map[string]string{"kind-prod": "kind-prod", "arn:aws:eks:eu/Prod_1": "arn-aws-eks-eu-prod-1", "-x.": "x"} {
		if got := memberName(in); got != want {
			t.Errorf("memberName(%q) = %q, want %q", in, got, want)
		}
	}
}
