package chart_test

import (
	"github.com/flink-hub/flink-hub/internal/clusters/registration"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/defaults"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// container returns the hub container of the rendered Deployment.
func container(t *testing.T, r *rendered, name string) (*appsv1.Deployment, corev1.Container) {
	t.Helper()
	var d appsv1.Deployment
	r.into(t, "Deployment", name, &d)
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(d.Spec.Template.Spec.Containers))
	}
	return &d, d.Spec.Template.Spec.Containers[0]
}

// flagValue returns the value of --name in args and whether it is there.
func flagValue(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// hubAcceptsArgs runs the hub binary with args and --version: it parses
// and checks every flag, then exits, so an argument the chart renders that
// the hub does not know fails here.
func hubAcceptsArgs(t *testing.T, args []string) {
	t.Helper()
	bin, err := framework.Build("./cmd/flink-hub")
	if err != nil {
		t.Fatal(err)
	}
	args = slices.Clone(args)
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "$(POD_NAME)", "flink-hub-0")
	}
	if out, err := exec.Command(bin, append(args, "--version")...).CombinedOutput(); err != nil {
		t.Fatalf("flink-hub rejects the chart's arguments: %v\n%s", err, out)
	}
}

func TestRenderDefaults(t *testing.T) {
	r, err := render("flink-hub", "hub-system", nil)
	if err != nil {
		t.Fatal(err)
	}
	d, c := container(t, r, "flink-hub")
	checkDefaultDeployment(t, d, c)
	checkDefaultPDBAndServices(t, r)
	checkDefaultRBAC(t, r)
	for _, absent := range []string{"ServiceMonitor", "Certificate", "Issuer"} {
		for _, o := range r.objects {
			if o.GetKind() == absent {
				t.Errorf("%s %s rendered by default", absent, o.GetName())
			}
		}
	}
	if r.find("Service", "flink-hub-webhook") != nil {
		t.Error("webhook Service rendered without webhook.url")
	}
	if r.find("CustomResourceDefinition", "memberclusters.hub.flink-hub.io") == nil {
		t.Error("the MemberCluster CRD is not part of the chart")
	}
	for _, want := range []string{"kubectl flinkhub cluster add <context> --namespace hub-system", "webhook.url is empty"} {
		if !strings.Contains(r.notes, want) {
			t.Errorf("NOTES.txt lacks %q:\n%s", want, r.notes)
		}
	}
	hubAcceptsArgs(t, c.Args)
}

// checkDefaultDeployment checks the hub Deployment d and its container c
// rendered with the default values: replicas, image, flags, env, probes,
// security contexts, resources, spread and ServiceAccount.
func checkDefaultDeployment(t *testing.T, d *appsv1.Deployment, c corev1.Container) {
	t.Helper()
	if *d.Spec.Replicas != 3 {
		t.Errorf("replicas = %d, want 3", *d.Spec.Replicas)
	}
	if c.Image != "flink-hub:0.1.0" {
		t.Errorf("image = %q, want the Dockerfile's image flink-hub:<appVersion>", c.Image)
	}
	want := map[string]string{
		"namespace": "hub-system", "replica-id": "$(POD_NAME)", "shards": "64", "lease-duration": "10s",
		"renew-deadline": "7s", "retry-period": "2s", "reconcile-interval": "60s", "flink-rest-transport": "proxy",
		"health-probe-bind-address": ":8081", "metrics-bind-address": ":8080", "fleet-bind-address": ":8082",
		"member-qps": "200", "install-crds": "true", "max-concurrent-reconciles": "8",
		"allow-insecure-member-kubeconfigs": "false", "member-request-timeout": "30s", "member-worker-share": "0.5",
		"reconcile-timeout": "2m", "state-size-interval": "10m", "member-claim-duration": "1m", "member-sync-timeout": "1m",
		"health-report-interval": "1m", "jar-cache-dir": "/var/cache/flink-hub/jars", "jar-cache-size": "2147483648", "jar-fetch-max-size": "268435456", "jar-fetch-timeout": "2m", "jar-fetch-concurrency": "2",
		"jar-fetch-allow-private-networks": "false", "member-spread": "0", "handoff-wait": "10s",
		"fleet-token-reviews-per-second": "10",
	}
	for name, v := range want {
		if got, ok := flagValue(c.Args, name); !ok || got != v {
			t.Errorf("--%s = %q (set: %v), want %q", name, got, ok, v)
		}
	}
	// 2 GiB of jars, plus 2 downloads and the jar just fetched of 256 MiB.
	checkJarCache(t, d, c, 2<<30+3*256<<20)
	for _, off := range []string{"otel-endpoint", "webhook-url", "trace-query-url"} {
		if _, ok := flagValue(c.Args, off); ok {
			t.Errorf("--%s set by default", off)
		}
	}
	// POD_NAME names the replica; POD_IP is where its peers reach its
	// fleet API (--fleet-advertise-address's default).
	if len(c.Env) < 2 || c.Env[0].Name != "POD_NAME" || c.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.name" ||
		c.Env[1].Name != "POD_IP" || c.Env[1].ValueFrom.FieldRef.FieldPath != "status.podIP" {
		t.Errorf("env = %+v, want POD_NAME from metadata.name and POD_IP from status.podIP", c.Env)
	}
	checkGoMemLimit(t, c, "966367641") // 90% of the 1Gi limit
	if p := c.LivenessProbe.HTTPGet; p.Path != "/healthz" || p.Port.String() != "health" {
		t.Errorf("liveness probe %s on %s", p.Path, p.Port.String())
	}
	if p := c.ReadinessProbe.HTTPGet; p.Path != "/readyz" || p.Port.String() != "health" {
		t.Errorf("readiness probe %s on %s", p.Path, p.Port.String())
	}
	sc := c.SecurityContext
	if !*sc.RunAsNonRoot || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault ||
		!slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("container securityContext not locked down: %+v", sc)
	}
	if pod := d.Spec.Template.Spec.SecurityContext; !*pod.RunAsNonRoot || pod.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext not locked down: %+v", pod)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources = %+v, want requests and a memory limit", c.Resources)
	}
	tsc := d.Spec.Template.Spec.TopologySpreadConstraints
	if len(tsc) != 1 || tsc[0].TopologyKey != "kubernetes.io/hostname" || tsc[0].LabelSelector.MatchLabels["app.kubernetes.io/instance"] != "flink-hub" {
		t.Errorf("topology spread = %+v", tsc)
	}
	if d.Spec.Template.Spec.ServiceAccountName != "flink-hub" {
		t.Errorf("serviceAccountName = %q", d.Spec.Template.Spec.ServiceAccountName)
	}
}

// checkGoMemLimit checks the container's GOMEMLIMIT: 90% of its memory
// limit in bytes (want), or none (want "") without a limit. Without it the
// Go runtime ignores the limit and the pod is OOM-killed where it could
// have collected garbage.
func checkGoMemLimit(t *testing.T, c corev1.Container, want string) {
	t.Helper()
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "GOMEMLIMIT" })
	switch {
	case want == "" && i >= 0:
		t.Errorf("GOMEMLIMIT = %q without a memory limit", c.Env[i].Value)
	case want != "" && (i < 0 || c.Env[i].Value != want):
		t.Errorf("env %+v, want GOMEMLIMIT=%s (90%% of the memory limit %v)", c.Env, want, c.Resources.Limits.Memory())
	}
}

// checkJarCache checks the jar cache volume: the root filesystem is
// read-only, so the jars are fetched into an emptyDir mounted at
// --jar-cache-dir, whose size limit must be wantLimit. The kubelet evicts
// a pod whose emptyDir outgrows its limit, so the limit must leave room
// beyond the cache's size for the downloads in progress (each a temporary
// file of up to the largest jar) and the jar just fetched.
func checkJarCache(t *testing.T, d *appsv1.Deployment, c corev1.Container, wantLimit int64) {
	t.Helper()
	vols := d.Spec.Template.Spec.Volumes
	cache := slices.IndexFunc(vols, func(v corev1.Volume) bool { return v.Name == "jar-cache" })
	if cache < 0 || vols[cache].EmptyDir == nil || vols[cache].EmptyDir.SizeLimit == nil {
		t.Fatalf("no jar cache emptyDir with a size limit: %+v", vols)
	}
	if got := vols[cache].EmptyDir.SizeLimit.Value(); got != wantLimit {
		t.Errorf("jar cache sizeLimit = %d, want %d (cache + (concurrency+1) x largest jar)", got, wantLimit)
	}
	if dir, _ := flagValue(c.Args, "jar-cache-dir"); !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
		return m.Name == "jar-cache" && m.MountPath == dir
	}) {
		t.Errorf("jar cache not mounted at --jar-cache-dir %q: %+v", dir, c.VolumeMounts)
	}
}

// checkDefaultPDBAndServices checks the PodDisruptionBudget and the fleet
// and metrics Services rendered with the default values.
func checkDefaultPDBAndServices(t *testing.T, r *rendered) {
	t.Helper()
	var pdb policyv1.PodDisruptionBudget
	r.into(t, "PodDisruptionBudget", "flink-hub", &pdb)
	if pdb.Spec.MaxUnavailable.IntValue() != 1 {
		t.Errorf("PDB maxUnavailable = %v", pdb.Spec.MaxUnavailable)
	}

	var fleet corev1.Service
	r.into(t, "Service", "flink-hub", &fleet)
	if len(fleet.Spec.Ports) != 1 || fleet.Spec.Ports[0].Name != "fleet" || fleet.Spec.Ports[0].TargetPort.String() != "fleet" {
		t.Errorf("fleet Service ports = %+v, want one named fleet (the plugin's default flink-hub:fleet)", fleet.Spec.Ports)
	}
	var metrics corev1.Service
	r.into(t, "Service", "flink-hub-metrics", &metrics)
	if metrics.Spec.Ports[0].Name != "metrics" {
		t.Errorf("metrics Service ports = %+v", metrics.Spec.Ports)
	}
}

// checkDefaultRBAC checks the hub's Role, its review ClusterRole and
// binding, and the fleet reader Role rendered with the default values.
func checkDefaultRBAC(t *testing.T, r *rendered) {
	t.Helper()
	var role rbacv1.Role
	r.into(t, "Role", "flink-hub", &role)
	if role.Namespace != "hub-system" {
		t.Errorf("Role in %q, want the release namespace", role.Namespace)
	}
	for _, tc := range []struct {
		group, resource, verb string
		want                  bool
	}{
		{"coordination.k8s.io", "leases", "create", true},
		{"coordination.k8s.io", "leases", "update", true},
		{"coordination.k8s.io", "leases", "delete", true},
		{"", "secrets", "watch", true},
		{"", "secrets", "create", false},
		{"hub.flink-hub.io", "memberclusters", "create", true},
		{"hub.flink-hub.io", "memberclusters", "delete", true},
		{"hub.flink-hub.io", "memberclusters/status", "patch", true},
		// Least privilege: the hub never updates MemberClusters nor reads
		// or updates their status subresource, and sets its owner
		// references without blockOwnerDeletion (no secrets/finalizers).
		{"hub.flink-hub.io", "memberclusters", "update", false},
		{"hub.flink-hub.io", "memberclusters", "patch", false},
		{"hub.flink-hub.io", "memberclusters/status", "update", false},
		{"hub.flink-hub.io", "memberclusters/status", "get", false},
		{"", "secrets/finalizers", "update", false},
		{"", "events", "create", true},
		{"", "pods", "list", false},
	} {
		if got := registration.Allows(role.Rules, tc.group, tc.resource, tc.verb, ""); got != tc.want {
			t.Errorf("Role allows %s %s/%s = %v, want %v", tc.verb, tc.group, tc.resource, got, tc.want)
		}
	}
	// The fleet API reviews its callers' tokens and access; users get the
	// fleet reader Role (the plugin's service proxy path and the access the
	// fleet API checks).
	var reviews rbacv1.ClusterRole
	r.into(t, "ClusterRole", "flink-hub-hub-system", &reviews)
	var reviewsBinding rbacv1.ClusterRoleBinding
	r.into(t, "ClusterRoleBinding", "flink-hub-hub-system", &reviewsBinding)
	if !registration.Allows(reviews.Rules, "authentication.k8s.io", "tokenreviews", "create", "") || !registration.Allows(reviews.Rules, "authorization.k8s.io", "subjectaccessreviews", "create", "") ||
		len(reviews.Rules) != 2 || reviewsBinding.RoleRef.Name != reviews.Name || len(reviewsBinding.Subjects) != 1 ||
		reviewsBinding.Subjects[0].Name != "flink-hub" || reviewsBinding.Subjects[0].Namespace != "hub-system" {
		t.Errorf("the hub's review ClusterRole %+v / binding %+v, want exactly tokenreviews and subjectaccessreviews create for the hub", reviews.Rules, reviewsBinding)
	}
	var reader rbacv1.Role
	r.into(t, "Role", "flink-hub-fleet-reader", &reader)
	if reader.Namespace != "hub-system" || !registration.Allows(reader.Rules, "hub.flink-hub.io", "memberclusters", "list", "") ||
		!registration.Allows(reader.Rules, "", "services/proxy", "get", "https:flink-hub:fleet") || registration.Allows(reader.Rules, "", "services/proxy", "get", "flink-hub-webhook") {
		t.Errorf("fleet reader Role = %s %+v", reader.Namespace, reader.Rules)
	}
}

// exampleWebhookURL is the webhook URL of the non-default renderings.
const exampleWebhookURL = "https://hub.example.com:8443/validate-flinkdeployment"

func TestRenderNonDefaults(t *testing.T) {
	cases := []struct {
		name  string
		vals  map[string]any
		check func(t *testing.T, r *rendered, d *appsv1.Deployment, c corev1.Container)
	}{{
		name: "scaled, traced, url transport, monitored, no PDB or spread",
		vals: map[string]any{
			"replicas": 5, "sharding": map[string]any{"shards": 128, "leaseDuration": "20s"},
			"tracing":             map[string]any{"endpoint": "http://otel:4317", "protocol": "grpc", "sampler": "traceidratio", "samplerArg": 0.25},
			"flinkRest":           map[string]any{"transport": "url", "urlTemplate": "http://{{.Name}}.{{.Namespace}}:8081"},
			"metrics":             map[string]any{"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prom"}}},
			"podDisruptionBudget": map[string]any{"enabled": false}, "topologySpread": map[string]any{"enabled": false},
			"image":   map[string]any{"repository": "registry.internal/flink-hub", "tag": "v9"},
			"members": map[string]any{"allowInsecureKubeconfigs": true},
			"fleet":   map[string]any{"tokenReviewsPerSecond": 2.5},
		},
		check: checkScaledTracedMonitored,
	}, {
		name:  "webhook with generated certificates",
		vals:  map[string]any{"webhook": map[string]any{"url": exampleWebhookURL, "failurePolicy": "Fail", "timeoutSeconds": 3, "hosts": []any{"10.0.0.7"}}},
		check: checkWebhookGeneratedCerts,
	}, {
		name:  "webhook with cert-manager",
		vals:  map[string]any{"webhook": map[string]any{"url": "https://10.1.2.3/validate-flinkdeployment", "certManager": map[string]any{"enabled": true}}},
		check: checkWebhookCertManager,
	}, {
		name: "jar cache sized from the values",
		vals: map[string]any{"sessionJobs": map[string]any{"jarCacheBytes": 1 << 30, "jarMaxBytes": 100 << 20, "jarFetchConcurrency": 4}},
		check: func(t *testing.T, _ *rendered, d *appsv1.Deployment, c corev1.Container) {
			if got, _ := flagValue(c.Args, "jar-fetch-concurrency"); got != "4" {
				t.Errorf("--jar-fetch-concurrency = %q, want 4", got)
			}
			checkJarCache(t, d, c, 1<<30+5*100<<20)
		},
	}, {
		name: "GOMEMLIMIT from a decimal memory limit",
		vals: map[string]any{"resources": map[string]any{"limits": map[string]any{"memory": "1500M"}}},
		check: func(t *testing.T, _ *rendered, _ *appsv1.Deployment, c corev1.Container) {
			checkGoMemLimit(t, c, "1350000000")
		},
	}, {
		name: "no GOMEMLIMIT without a memory limit",
		vals: map[string]any{"resources": map[string]any{"limits": nil}},
		check: func(t *testing.T, _ *rendered, _ *appsv1.Deployment, c corev1.Container) {
			checkGoMemLimit(t, c, "")
		},
	}, {
		name:  "webhook off",
		vals:  map[string]any{"webhook": map[string]any{"create": false, "url": exampleWebhookURL}},
		check: checkWebhookOff,
	}, {
		name: "fleet defaults with a jar fetch header and its origins",
		vals: map[string]any{"defaultConfiguration": "kubernetes.operator.user.artifacts.http.header: \"Authorization:'Bearer x'\"\n",
			"defaultArtifactHeaderOrigins": []any{"https://artifacts.example.com", "http://mirror.example.com:8081/"}},
		check: checkDefaultsHeaderOrigins,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := render("flink-hub", "hub-system", tc.vals)
			if err != nil {
				t.Fatal(err)
			}
			d, c := container(t, r, "flink-hub")
			tc.check(t, r, d, c)
			hubAcceptsArgs(t, c.Args)
		})
	}
}

// checkScaledTracedMonitored checks the Deployment, its flags and the
// ServiceMonitor of a scaled, traced, monitored release with the url
// transport, and that no PDB or topology spread is rendered.
func checkScaledTracedMonitored(t *testing.T, r *rendered, d *appsv1.Deployment, c corev1.Container) {
	if *d.Spec.Replicas != 5 || c.Image != "registry.internal/flink-hub:v9" {
		t.Errorf("replicas %d image %q", *d.Spec.Replicas, c.Image)
	}
	for name, v := range map[string]string{"shards": "128", "lease-duration": "20s", "otel-endpoint": "http://otel:4317",
		"otel-protocol": "grpc", "otel-sampler": "traceidratio", "otel-sampler-arg": "0.25",
		"flink-rest-transport": "url", "flink-rest-url-template": "http://{{.Name}}.{{.Namespace}}:8081",
		"allow-insecure-member-kubeconfigs": "true", "fleet-token-reviews-per-second": "2.5"} {
		if got, _ := flagValue(c.Args, name); got != v {
			t.Errorf("--%s = %q, want %q", name, got, v)
		}
	}
	sm := r.find("ServiceMonitor", "flink-hub")
	if sm == nil || sm.GetLabels()["release"] != "prom" {
		t.Errorf("ServiceMonitor = %v", sm)
	}
	if r.find("PodDisruptionBudget", "flink-hub") != nil || len(d.Spec.Template.Spec.TopologySpreadConstraints) != 0 {
		t.Error("PDB or topology spread rendered though disabled")
	}
}

// checkWebhookGeneratedCerts checks the webhook flags, Service, Secret
// rules and notes of a webhook with certificates the hub generates.
func checkWebhookGeneratedCerts(t *testing.T, r *rendered, d *appsv1.Deployment, c corev1.Container) {
	for name, v := range map[string]string{"webhook-url": exampleWebhookURL, "webhook-failure-policy": "Fail", "webhook-timeout": "3s",
		"webhook-ca-secret": "flink-hub-webhook-ca", "webhook-bind-address": ":9443",
		"webhook-hosts": "hub.example.com,flink-hub-webhook,flink-hub-webhook.hub-system.svc,10.0.0.7"} {
		if got, _ := flagValue(c.Args, name); got != v {
			t.Errorf("--%s = %q, want %q", name, got, v)
		}
	}
	var svc corev1.Service
	r.into(t, "Service", "flink-hub-webhook", &svc)
	if svc.Spec.Ports[0].Port != 443 || svc.Spec.Ports[0].TargetPort.String() != "webhook" {
		t.Errorf("webhook Service ports %+v", svc.Spec.Ports)
	}
	var role rbacv1.Role
	r.into(t, "Role", "flink-hub", &role)
	if !registration.Allows(role.Rules, "", "secrets", "create", "") || !registration.Allows(role.Rules, "", "secrets", "update", "flink-hub-webhook-ca") ||
		registration.Allows(role.Rules, "", "secrets", "update", "member-1") {
		t.Error("Role must allow creating Secrets and updating only the CA Secret")
	}
	if !strings.Contains(r.notes, "registered in every member at "+exampleWebhookURL) {
		t.Errorf("NOTES.txt: %s", r.notes)
	}
}

// checkWebhookCertManager checks the mounted serving certificate, its
// cert-manager Certificate and CA Issuer, and that the hub may not create
// Secrets, of a webhook with cert-manager.
func checkWebhookCertManager(t *testing.T, r *rendered, d *appsv1.Deployment, c corev1.Container) {
	if got, _ := flagValue(c.Args, "webhook-cert-dir"); got != "/etc/flink-hub/webhook-tls" {
		t.Errorf("--webhook-cert-dir = %q", got)
	}
	if _, ok := flagValue(c.Args, "webhook-ca-secret"); ok {
		t.Error("--webhook-ca-secret set with cert-manager")
	}
	tls := slices.IndexFunc(d.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == "webhook-tls" })
	if len(c.VolumeMounts) != 2 || tls < 0 || d.Spec.Template.Spec.Volumes[tls].Secret.SecretName != "flink-hub-webhook-tls" {
		t.Errorf("mounts %+v volumes %+v", c.VolumeMounts, d.Spec.Template.Spec.Volumes)
	}
	cert := r.find("Certificate", "flink-hub-webhook")
	if cert == nil {
		t.Fatal("no Certificate")
	}
	spec := cert.Object["spec"].(map[string]any)
	if spec["secretName"] != "flink-hub-webhook-tls" || spec["ipAddresses"].([]any)[0] != "10.1.2.3" ||
		!slices.Contains(spec["dnsNames"].([]any), any("flink-hub-webhook.hub-system.svc")) {
		t.Errorf("Certificate spec %v", spec)
	}
	if r.find("Issuer", "flink-hub-webhook-ca") == nil || r.find("Certificate", "flink-hub-webhook-ca") == nil {
		t.Error("no CA Issuer for the serving Certificate")
	}
	var role rbacv1.Role
	r.into(t, "Role", "flink-hub", &role)
	if registration.Allows(role.Rules, "", "secrets", "create", "") {
		t.Error("Role allows creating Secrets though cert-manager issues the certificate")
	}
}

// checkWebhookOff checks that a release with webhook.create=false renders
// no webhook flag, Service or warning.
func checkWebhookOff(t *testing.T, r *rendered, d *appsv1.Deployment, c corev1.Container) {
	for _, a := range c.Args {
		if strings.HasPrefix(a, "--webhook-") {
			t.Errorf("webhook flag %s with create=false", a)
		}
	}
	if r.find("Service", "flink-hub-webhook") != nil || strings.Contains(r.notes, "webhook.url is empty") {
		t.Error("webhook Service or warning with create=false")
	}
}

func TestReleaseNameSetsObjectNames(t *testing.T) {
	r, err := render("prod", "hub-system", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"Deployment", "ServiceAccount", "Role", "RoleBinding", "Service", "PodDisruptionBudget"} {
		if r.find(kind, "prod-flink-hub") == nil {
			t.Errorf("no %s prod-flink-hub", kind)
		}
	}
}

// lintValues are the value sets the chart is linted with.
var lintValues = []map[string]any{nil, {"webhook": map[string]any{"url": "https://hub.example.com/validate-flinkdeployment", "certManager": map[string]any{"enabled": true}}}}

func TestLint(t *testing.T) {
	for _, vals := range lintValues {
		lint := action.NewLint()
		lint.Strict = true
		lint.Namespace = "flink-hub"
		res := lint.Run([]string{chartDir()}, vals)
		if len(res.Errors) > 0 {
			t.Errorf("helm lint --strict with %v: %v", vals, res.Errors)
		}
		for _, m := range res.Messages {
			t.Logf("lint: %s", m)
		}
	}
}

// badValues are values the chart must reject, with what the rejection
// must name: its schema, or a template's fail (byTemplate) for what the
// schema cannot say. Either way `helm install` fails with the message,
// instead of the hub crash-looping on a flag error.
var badValues = []struct {
	name       string
	vals       map[string]any
	want       string
	byTemplate bool
}{
	{"wrong type", map[string]any{"replicas": "three"}, "at '/replicas': got string, want integer", false},
	{"a jar header origin with a path", map[string]any{"defaultArtifactHeaderOrigins": []any{"https://artifacts.example.com/private"}}, "/defaultArtifactHeaderOrigins/0", false},
	{"unknown key", map[string]any{"replica": 3}, "additional properties 'replica' not allowed", false},
	{"unknown nested key", map[string]any{"webhook": map[string]any{"failurepolicy": "Fail"}}, "additional properties 'failurepolicy' not allowed", false},
	{"failure policy", map[string]any{"webhook": map[string]any{"failurePolicy": "Maybe"}}, "at '/webhook/failurePolicy': value must be one of 'Ignore', 'Fail'", false},
	{"plain http webhook", map[string]any{"webhook": map[string]any{"url": "http://hub/validate"}}, "/webhook/url", false},
	// The hub serves only /validate-flinkdeployment/<member>/<token>: any
	// other path 404s every admission call, which members ignore.
	{"webhook path", map[string]any{"webhook": map[string]any{"url": "https://flink-hub.example.com:9443/validate"}}, "at '/webhook/url': 'https://flink-hub.example.com:9443/validate' does not match pattern", false},
	{"duration", map[string]any{"sharding": map[string]any{"leaseDuration": "10 seconds"}}, "/sharding/leaseDuration", false},
	{"sampler", map[string]any{"tracing": map[string]any{"sampler": "sometimes"}}, "/tracing/sampler", false},
	{"transport", map[string]any{"flinkRest": map[string]any{"transport": "carrier-pigeon"}}, "value must be one of 'proxy', 'url'", false},
	{"port", map[string]any{"ports": map[string]any{"health": 70000}}, "/ports/health", false},
	// Durations the hub refuses when zero, or silently replaces with its
	// default.
	{"zero reconcile interval", map[string]any{"reconcile": map[string]any{"interval": "0s"}}, "at '/reconcile/interval': '0s' does not match pattern '[1-9]'", false},
	{"zero lease duration", map[string]any{"sharding": map[string]any{"leaseDuration": "0s"}}, "at '/sharding/leaseDuration': '0s' does not match pattern '[1-9]'", false},
	{"fractional lease duration", map[string]any{"sharding": map[string]any{"leaseDuration": "1.5s"}}, "/sharding/leaseDuration", false},
	{"zero sync timeout", map[string]any{"members": map[string]any{"syncTimeout": "0m"}}, "/members/syncTimeout", false},
	{"zero probe interval", map[string]any{"members": map[string]any{"health": map[string]any{"interval": "0s"}}}, "/members/health/interval", false},
	// The fleet API would review no unknown token at all: every new
	// caller locked out.
	{"no token reviews", map[string]any{"fleet": map[string]any{"tokenReviewsPerSecond": 0}}, "/fleet/tokenReviewsPerSecond", false},
	// cert-manager refuses an issuerRef without a name, or of a kind it
	// does not have, only once the Certificate exists, and the hub waits
	// for a certificate that never comes.
	{"issuerRef without a name", map[string]any{"webhook": map[string]any{"certManager": map[string]any{"enabled": true, "issuerRef": map[string]any{"kind": "ClusterIssuer"}}}}, "/webhook/certManager/issuerRef", false},
	{"issuerRef kind", map[string]any{"webhook": map[string]any{"certManager": map[string]any{"enabled": true, "issuerRef": map[string]any{"name": "ca", "kind": "CAIssuer"}}}}, "at '/webhook/certManager/issuerRef/kind': value must be one of 'Issuer', 'ClusterIssuer'", false},
	{"zero jar fetch timeout", map[string]any{"sessionJobs": map[string]any{"jarFetchTimeout": "0s"}}, "/sessionJobs/jarFetchTimeout", false},
	{"memory limit GOMEMLIMIT cannot read", map[string]any{"resources": map[string]any{"limits": map[string]any{"memory": "1e9"}}}, `resources.limits.memory "1e9": the chart sets GOMEMLIMIT to 90% of it`, true},
	{"member spread over shards", map[string]any{"sharding": map[string]any{"shards": 8, "memberSpread": 9}}, "sharding.memberSpread (9) must not exceed sharding.shards (8)", true},
}

// checkRejection checks that err rejects bad values the way want says:
// by the schema, or by a template's fail, naming the problem.
func checkRejection(t *testing.T, err error, want string, byTemplate bool) {
	t.Helper()
	by := schemaRejection
	if byTemplate {
		by = "execution error"
	}
	if err == nil {
		t.Fatal("bad values accepted")
	}
	if !strings.Contains(err.Error(), by) || !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name the problem %q (by %q)", err, want, by)
	}
}

// schemaRejection is the start of Helm's error for values its schema
// rejects.
const schemaRejection = "values don't meet the specifications of the schema"

func TestSchemaRejectsBadValues(t *testing.T) {
	for _, tc := range badValues {
		t.Run(tc.name, func(t *testing.T) {
			_, err := render("flink-hub", "flink-hub", tc.vals)
			checkRejection(t, err, tc.want, tc.byTemplate)
		})
	}
}

// checkDefaultsHeaderOrigins: the fleet's default ConfigMap carries the
// origins of its jar fetch header, as the hub reads them.
func checkDefaultsHeaderOrigins(t *testing.T, r *rendered, _ *appsv1.Deployment, _ corev1.Container) {
	var cm corev1.ConfigMap
	r.into(t, "ConfigMap", "flink-hub-defaults", &cm)
	_, conf, err := defaults.Parse(&cm)
	if err != nil || conf[flinkconf.KeyArtifactHTTPHeader] != "Authorization:'Bearer x'" {
		t.Fatalf("defaults.Parse = %v, %v", conf, err)
	}
	origins, err := defaults.HeaderOrigins(&cm)
	if want := []string{"http://mirror.example.com:8081", "https://artifacts.example.com:443"}; err != nil || !slices.Equal(origins, want) {
		t.Errorf("defaults.HeaderOrigins = %q, %v; want %q", origins, err, want)
	}
}
