package webhook_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/defaults"
	"github.com/flink-hub/flink-hub/internal/webhook"
	"github.com/flink-hub/flink-hub/internal/webhook/registrar"
)

// startHub runs a hub manager with the webhook flags f in namespace ns
// (created unless it exists), registers member m, and returns a function
// that stops the hub.
func startHub(t *testing.T, ns string, m *framework.ControlPlane, f webhook.Flags) (stop func()) {
	t.Helper()
	ctx := context.Background()
	if err := fleet.Hub.CreateNamespace(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	opts := clusters.DefaultOptions()
	opts.Namespace, opts.FleetAddress, opts.InstallCRDs = ns, "", false
	// Each test's hub registers the same member: a stopped hub's claim
	// lapses before the next test needs it.
	opts.ClaimDuration = 3 * time.Second
	hub, err := clusters.New(fleet.Hub.Config, opts, manager.Options{
		Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		// Each test runs its own hub in this process.
		Controller: ctrlconfig.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := webhook.Setup(hub.Manager, kubernetes.NewForConfigOrDie(fleet.Hub.Config), ns, hub.Defaults, f); err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- hub.Manager.Start(mctx) }()
	kubeconfig, err := m.HubKubeconfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: m.Name, Namespace: ns, Labels: map[string]string{memberconfig.SecretLabel: "true"}},
		Data:       map[string][]byte{memberconfig.SecretKey: kubeconfig},
	}
	if err := fleet.Hub.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("hub manager: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

func registered(ctx context.Context, m *framework.ControlPlane) (*admissionregistrationv1.ValidatingWebhookConfiguration, error) {
	var cfg admissionregistrationv1.ValidatingWebhookConfiguration
	err := m.Client.Get(ctx, client.ObjectKey{Name: registrar.Name}, &cfg)
	return &cfg, err
}

// TestWebhookRejectsInvalidDeploymentsInMembers registers the webhook in a
// member through the hub, then writes FlinkDeployments to the member's
// apiserver, which calls the hub over HTTPS with the hub's CA bundle.
func TestWebhookRejectsInvalidDeploymentsInMembers(t *testing.T) {
	ctx := context.Background()
	m := fleet.Members[0]
	addr := framework.FreeAddr(t)
	url := "https://" + addr + webhook.Path
	stop := startHub(t, "hub-webhook-on", m, webhook.Flags{
		URL: url, BindAddress: addr, CASecret: "flink-hub-webhook-ca", FailurePolicy: "Fail", Timeout: 5 * time.Second,
	})

	cfg := waitRegistration(t, ctx, m, url)
	good := checkRejections(t, ctx, m)
	checkCallersWithoutTokenLearnNothing(t, url+"/"+m.Name, cfg.Webhooks[0].ClientConfig.CABundle, good)
	checkHubDown(t, ctx, m, good, stop)
	if err := m.Client.Delete(ctx, cfg); err != nil {
		t.Fatal(err)
	}
}

// TestWebhookJudgesWithTheDefaults: the member's apiserver calls the hub's
// webhook with the member's token, and the webhook judges the configuration
// the controller would run, the FlinkDeployment's own over the fleet's and
// the member's defaults (ConfigMaps of the hub namespace, there before the
// hub starts: it reads them all before it answers). A job whose checkpoint
// and savepoint directories only the member's defaults give is admitted; one
// that turns JobManager recovery off, which the fleet's default health
// check needs, is refused.
func TestWebhookJudgesWithTheDefaults(t *testing.T) {
	ctx := context.Background()
	m := fleet.Members[1]
	const hubNS, ns = "hub-webhook-defaults", "team-d"
	if err := fleet.Hub.CreateNamespace(ctx, hubNS); err != nil {
		t.Fatal(err)
	}
	for name, member := range map[string]string{"fleet": "", "member": m.Name} {
		conf := "kubernetes.operator.cluster.health-check.enabled: true\n"
		if member != "" {
			conf = "state:\n  checkpoints.dir: s3://member/checkpoints\n  savepoints.dir: s3://member/savepoints\n"
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: hubNS, Name: name, Labels: map[string]string{defaults.Label: "true"}},
			Data: map[string]string{defaults.Key: conf}}
		if member != "" {
			cm.Annotations = map[string]string{defaults.MemberAnnotation: member}
		}
		if err := fleet.Hub.Client.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	// Runs after the hub stopped (cleanups run last first): no hub then
	// registers it again, and the next test finds the member as it was.
	t.Cleanup(func() {
		_ = m.Client.Delete(ctx, &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: registrar.Name}})
	})
	addr := framework.FreeAddr(t)
	startHub(t, hubNS, m, webhook.Flags{
		URL: "https://" + addr + webhook.Path, BindAddress: addr, CASecret: "flink-hub-webhook-ca", FailurePolicy: "Fail", Timeout: 5 * time.Second,
	})
	if err := m.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	probe := validDeployment(ns, "probe")
	forbidNamespaceKey(probe)
	awaitRefusal(t, ctx, m, probe)
	if err := m.Client.Create(ctx, reliesOnDefaults(ns, "relies")); err != nil {
		t.Errorf("a FlinkDeployment relying on its member's defaults was refused: %v", err)
	}
	err := m.Client.Create(ctx, madeInvalidByDefaults(ns, "no-recovery"))
	if err == nil || !strings.Contains(err.Error(), needsRecovery) {
		t.Errorf("a FlinkDeployment the fleet's defaults make invalid: got %v, want the webhook's refusal (%s)", err, needsRecovery)
	}
}

// awaitRefusal creates invalid in m until the hub's webhook refuses it (the
// member's apiserver may not have loaded the hub's configuration yet) and
// returns the refusal.
func awaitRefusal(t *testing.T, ctx context.Context, m *framework.ControlPlane, invalid *flinkv1beta1.FlinkDeployment) error {
	t.Helper()
	var createErr error
	if err := framework.Eventually(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		createErr = m.Client.Create(ctx, invalid.DeepCopy())
		if createErr == nil {
			_ = m.Client.Delete(ctx, invalid.DeepCopy())
			return false, nil
		}
		return strings.Contains(createErr.Error(), "admission webhook"), nil
	}); err != nil {
		t.Fatalf("invalid FlinkDeployment never rejected by the webhook; last create: %v", createErr)
	}
	return createErr
}

// waitRegistration waits for the hub to register its webhook in m and
// checks the registration: the URL, the operations and the CA bundle of
// the hub's CA Secret (in namespace hub-webhook-on).
func waitRegistration(t *testing.T, ctx context.Context, m *framework.ControlPlane, url string) *admissionregistrationv1.ValidatingWebhookConfiguration {
	t.Helper()
	var cfg *admissionregistrationv1.ValidatingWebhookConfiguration
	if err := framework.Eventually(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		var err error
		cfg, err = registered(ctx, m)
		return err == nil, client.IgnoreNotFound(err)
	}); err != nil {
		t.Fatalf("webhook not registered in %s: %v", m.Name, err)
	}
	hook := cfg.Webhooks[0]
	if got, want := ptr.Deref(hook.ClientConfig.URL, ""), url+"/"+m.Name+"/"+pathToken(t, ctx, m); got != want {
		t.Errorf("clientConfig.url = %q, want %q (the member named, and its token)", got, want)
	}
	ops := hook.Rules[0].Operations
	if len(ops) != 2 || ops[0] != admissionregistrationv1.Create || ops[1] != admissionregistrationv1.Update {
		t.Errorf("operations = %v, want CREATE and UPDATE only", ops)
	}
	// The bundle is the CA the hub keeps in its namespace.
	var caSecret corev1.Secret
	if err := fleet.Hub.Client.Get(ctx, client.ObjectKey{Namespace: "hub-webhook-on", Name: "flink-hub-webhook-ca"}, &caSecret); err != nil {
		t.Fatal(err)
	}
	if string(hook.ClientConfig.CABundle) != string(caSecret.Data["ca.crt"]) {
		t.Error("caBundle differs from the hub's CA Secret")
	}
	if block, _ := pem.Decode(hook.ClientConfig.CABundle); block == nil {
		t.Error("caBundle is not PEM")
	} else if ca, err := x509.ParseCertificate(block.Bytes); err != nil || !ca.IsCA {
		t.Errorf("caBundle is not a CA certificate: %v", err)
	}
	return cfg
}

// pathToken is m's webhook path token, from the kubeconfig Secret the hub
// reads (in namespace hub-webhook-on).
func pathToken(t *testing.T, ctx context.Context, m *framework.ControlPlane) string {
	t.Helper()
	var secret corev1.Secret
	if err := fleet.Hub.Client.Get(ctx, client.ObjectKey{Namespace: "hub-webhook-on", Name: m.Name}, &secret); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(secret.Data[memberconfig.SecretKey])
	if err != nil {
		t.Fatal(err)
	}
	return registrar.PathToken(m.Name, cfg)
}

// checkCallersWithoutTokenLearnNothing calls the hub's webhook as someone
// who reaches it but is not the member: at memberURL (the member's URL
// without its token) and with a guessed token, a session job naming app,
// an application cluster the member's apiserver gets refused, is admitted.
func checkCallersWithoutTokenLearnNothing(t *testing.T, memberURL string, caBundle []byte, app *flinkv1beta1.FlinkDeployment) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caBundle)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	job := &flinkv1beta1.FlinkSessionJob{TypeMeta: metav1.TypeMeta{APIVersion: "flink.apache.org/v1beta1", Kind: "FlinkSessionJob"},
		ObjectMeta: metav1.ObjectMeta{Namespace: app.Namespace, Name: "probe"},
		Spec:       flinkv1beta1.FlinkSessionJobSpec{DeploymentName: app.Name, Job: &flinkv1beta1.JobSpec{JarURI: "https://artifacts.example/job.jar", Parallelism: 1, UpgradeMode: flinkv1beta1.UpgradeModeStateless}}}
	for _, u := range []string{memberURL, memberURL + "/0123456789abcdef0123456789abcdef"} {
		if answer := postSessionJobReview(t, hc, u, job); !answer.Allowed {
			t.Errorf("%s: a caller without the member's token was told about its application cluster: %+v", u, answer.Result)
		}
	}
}

// checkRejections creates FlinkDeployments in a new namespace of m: the
// webhook refuses invalid and oversized ones and invalid updates, and
// admits a valid one, which it returns.
func checkRejections(t *testing.T, ctx context.Context, m *framework.ControlPlane) *flinkv1beta1.FlinkDeployment {
	t.Helper()
	const ns = "team-a"
	if err := m.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	invalid := validDeployment(ns, "bad")
	forbidNamespaceKey(invalid)
	createErr := awaitRefusal(t, ctx, m, invalid)
	for _, want := range []string{registrar.WebhookName, "spec.flinkConfiguration[kubernetes.namespace]: Forbidden: set by the operator"} {
		if !strings.Contains(createErr.Error(), want) {
			t.Errorf("rejection %q does not contain %q", createErr, want)
		}
	}

	good := validDeployment(ns, "good")
	if err := m.Client.Create(ctx, good); err != nil {
		t.Fatalf("valid FlinkDeployment rejected: %v", err)
	}
	checkSessionJobs(t, ctx, m, good)
	checkChangesAgainstReconciledSpec(t, ctx, m, ns)
	bad := good.DeepCopy()
	forbidNamespaceKey(bad)
	if err := m.Client.Update(ctx, bad); err == nil || !strings.Contains(err.Error(), "kubernetes.namespace") {
		t.Fatalf("invalid update: got %v, want the webhook's rejection", err)
	}
	// A log configuration the apiserver would store in the FlinkDeployment
	// but not in the member's ConfigMap is refused, with the sizes.
	huge := validDeployment(ns, "huge")
	huge.Spec.LogConfiguration = map[string]string{"log4j-console.properties": strings.Repeat("#", 1100<<10)}
	if err := m.Client.Create(ctx, huge); err == nil || !strings.Contains(err.Error(), "spec.logConfiguration: Too long: the configuration ConfigMap would hold") ||
		!strings.Contains(err.Error(), "logConfiguration 1126424") {
		t.Fatalf("oversized create: got %.300v, want the webhook's size rejection", err)
	}
	return good
}

// checkChangesAgainstReconciledSpec: the rules about changes read the last
// reconciled spec in the stored status, which the apiserver hands the
// webhook with an update (whatever status the writer sent): a job last
// reconciled suspended with last-state on Flink 1.20, since set running,
// cannot move to Flink 2.2 before it ran again, although the previous
// write did not show the suspend (upstream's rule).
func checkChangesAgainstReconciledSpec(t *testing.T, ctx context.Context, m *framework.ControlPlane, ns string) {
	t.Helper()
	fd := lastStateDeployment(ns, "resumed")
	fd.Spec.FlinkVersion = "v1_20"
	if err := m.Client.Create(ctx, fd); err != nil {
		t.Fatalf("valid FlinkDeployment rejected: %v", err)
	}
	defer func() { _ = m.Client.Delete(context.Background(), fd) }()
	suspended := fd.Spec.DeepCopy()
	suspended.Job.State = flinkv1beta1.JobStateSuspended
	last, err := plan.EncodeSpec(suspended, false)
	if err != nil {
		t.Fatal(err)
	}
	fd.Status.ReconciliationStatus.LastReconciledSpec = last
	if err := m.Client.Status().Update(ctx, fd); err != nil {
		t.Fatal(err)
	}
	fd.Spec.FlinkVersion = "v2_2"
	fd.Status = flinkv1beta1.FlinkDeploymentStatus{} // the stored status counts, not the writer's
	err = m.Client.Update(ctx, fd)
	if err == nil || !strings.Contains(err.Error(), "spec.flinkVersion: Forbidden: Changing flinkVersion after last-state suspend is not allowed") {
		t.Fatalf("version change after a last-state suspend: got %v, want the webhook's refusal", err)
	}
}

// checkSessionJobs: a session job naming app, an application cluster, is
// refused once the hub's cache of m has app; one naming a FlinkDeployment
// the hub does not know is admitted (the same apply may create it a moment
// later; the controller reports it missing meanwhile).
func checkSessionJobs(t *testing.T, ctx context.Context, m *framework.ControlPlane, app *flinkv1beta1.FlinkDeployment) {
	t.Helper()
	job := func(name, deployment string) *flinkv1beta1.FlinkSessionJob {
		return &flinkv1beta1.FlinkSessionJob{ObjectMeta: metav1.ObjectMeta{Namespace: app.Namespace, Name: name},
			Spec: flinkv1beta1.FlinkSessionJobSpec{DeploymentName: deployment, Job: &flinkv1beta1.JobSpec{JarURI: "https://artifacts.example/job.jar", Parallelism: 1, UpgradeMode: flinkv1beta1.UpgradeModeStateless}}}
	}
	var createErr error
	if err := framework.Eventually(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		createErr = m.Client.Create(ctx, job("on-app", app.Name))
		if createErr == nil {
			return false, m.Client.Delete(ctx, job("on-app", app.Name))
		}
		return strings.Contains(createErr.Error(), "admission webhook"), nil
	}); err != nil {
		t.Fatalf("a session job on an application cluster never refused by the webhook; last create: %v", createErr)
	}
	if !strings.Contains(createErr.Error(), "spec.deploymentName") || !strings.Contains(createErr.Error(), "an application cluster") {
		t.Errorf("refusal %q does not name spec.deploymentName and the application cluster", createErr)
	}
	unknown := job("on-unknown", "not-yet")
	if err := m.Client.Create(ctx, unknown); err != nil {
		t.Fatalf("a session job naming a FlinkDeployment the hub does not know was refused: %v", err)
	}
	if err := m.Client.Delete(ctx, unknown); err != nil {
		t.Fatal(err)
	}
	// A jar fetch header that would smuggle in another is refused, naming
	// the setting and the header's key; its value, a credential, is not
	// in the answer.
	smuggler := job("header-smuggler", "not-yet")
	smuggler.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"kubernetes.operator.user.artifacts.http.header":"Authorization:Bearer hunter2\r\nHost:evil"}`)}
	err := m.Client.Create(ctx, smuggler)
	if err == nil || !strings.Contains(err.Error(), "admission webhook") || strings.Contains(err.Error(), "hunter2") ||
		!strings.Contains(err.Error(), `spec.flinkConfiguration[kubernetes.operator.user.artifacts.http.header]: Invalid value: header "Authorization": its value holds a control character`) {
		t.Errorf("a session job whose jar fetch header holds CR LF: got %v, want the webhook's refusal naming the header, not its value", err)
	}
}

// checkHubDown stops the hub (stop) and changes good in m: a dead hub
// never blocks deletes (DELETE is not covered) nor metadata changes
// (skipped by match conditions), even with failurePolicy Fail; spec changes
// are refused.
func checkHubDown(t *testing.T, ctx context.Context, m *framework.ControlPlane, good *flinkv1beta1.FlinkDeployment, stop func()) {
	t.Helper()
	stop()
	if err := m.Client.Get(ctx, client.ObjectKeyFromObject(good), good); err != nil {
		t.Fatal(err)
	}
	good.Labels = map[string]string{"team": "a"}
	good.Finalizers = []string{"example.com/hold"}
	if err := m.Client.Update(ctx, good); err != nil {
		t.Fatalf("metadata update with the hub down: %v", err)
	}
	respec := good.DeepCopy()
	respec.Spec.Job.Parallelism = 3
	if err := m.Client.Update(ctx, respec); err == nil || !strings.Contains(err.Error(), "failed calling webhook") {
		t.Fatalf("spec update with the hub down and failurePolicy Fail: got %v, want the call to fail", err)
	}
	if err := m.Client.Delete(ctx, good); err != nil {
		t.Fatalf("delete with the hub down: %v", err)
	}
	if err := m.Client.Get(ctx, client.ObjectKeyFromObject(good), good); err != nil {
		t.Fatal(err)
	}
	good.Finalizers = nil
	if err := m.Client.Update(ctx, good); err != nil {
		t.Fatalf("finalizer removal with the hub down: %v", err)
	}
	if err := m.Client.Delete(ctx, good); client.IgnoreNotFound(err) != nil {
		t.Fatalf("delete with the hub down: %v", err)
	}
}

// TestWebhookOffRegistersNothing starts a hub with the webhook off in front
// of a member holding a stale configuration of an earlier hub: the hub
// removes it, and invalid FlinkDeployments reach the member (the controller
// reports them in status).
func TestWebhookOffRegistersNothing(t *testing.T) {
	ctx := context.Background()
	m := fleet.Members[1]
	stale := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: registrar.Name},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    registrar.WebhookName,
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: ptr.To("https://" + framework.FreeAddr(t) + webhook.Path)},
			Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: admissionregistrationv1.Rule{APIGroups: []string{"flink.apache.org"}, APIVersions: []string{"v1beta1"}, Resources: []string{"flinkdeployments"}}}},
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	if err := m.Client.Create(ctx, stale); err != nil {
		t.Fatal(err)
	}
	startHub(t, "hub-webhook-off", m, webhook.Flags{})
	if err := framework.Eventually(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		_, err := registered(ctx, m)
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	}); err != nil {
		t.Fatalf("stale webhook configuration still registered: %v", err)
	}
	var all admissionregistrationv1.ValidatingWebhookConfigurationList
	if err := m.Client.List(ctx, &all); err != nil {
		t.Fatal(err)
	}
	if len(all.Items) != 0 {
		t.Fatalf("webhook configurations registered with the webhook off: %d", len(all.Items))
	}
	const ns = "team-b"
	if err := m.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	invalid := validDeployment(ns, "bad")
	forbidNamespaceKey(invalid)
	if err := framework.Eventually(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		return m.Client.Create(ctx, invalid) == nil, nil
	}); err != nil {
		t.Fatal(fmt.Errorf("invalid FlinkDeployment not admitted with the webhook off: %w", err))
	}
}
