package chart_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

// helm3 runs Helm 3's CLI with its own empty configuration, cache and data
// folders; it returns stdout, and an error holding stderr when it fails.
func helm3(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin, err := framework.Helm3Binary()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"), "HELM_DATA_HOME="+filepath.Join(home, "data"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), &helmError{args: args, err: err, stderr: stderr.String()}
	}
	return stdout.String(), nil
}

// helmError is a failed Helm CLI run.
type helmError struct {
	args   []string
	err    error
	stderr string
}

func (e *helmError) Error() string {
	return "helm3 " + strings.Join(e.args, " ") + ": " + e.err.Error() + ": " + e.stderr
}

// valuesFile writes vals as a values file (JSON is YAML) and returns its path.
func valuesFile(t *testing.T, vals map[string]any) string {
	t.Helper()
	if vals == nil {
		vals = map[string]any{}
	}
	b, err := json.Marshal(vals)
	if err != nil {
		t.Fatal(err)
	}
	// Not under t.TempDir: Helm splits --values at commas, which test names
	// may hold.
	dir, err := os.MkdirTemp("", "helm-values")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "values.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// byKindAndName indexes objects by kind, namespace and name.
func byKindAndName(r *rendered) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, o := range r.objects {
		out[o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName()] = o.Object
	}
	return out
}

// TestHelm3RendersWhatHelm4Renders renders the chart with Helm 3's CLI for
// several value sets and compares every object with the Helm 4 SDK's
// rendering, which the other chart tests check in detail: users on either
// Helm get the same objects.
func TestHelm3RendersWhatHelm4Renders(t *testing.T) {
	sets := map[string]map[string]any{
		"defaults":                  nil,
		"webhook with cert-manager": lintValues[1],
		"scaled, traced, monitored, no PDB": {
			"replicas": 5, "sharding": map[string]any{"shards": 128},
			"tracing":             map[string]any{"endpoint": "http://otel:4317", "protocol": "grpc"},
			"metrics":             map[string]any{"serviceMonitor": map[string]any{"enabled": true}},
			"podDisruptionBudget": map[string]any{"enabled": false},
		},
	}
	for name, vals := range sets {
		t.Run(name, func(t *testing.T) {
			want, err := render("flink-hub", "flink-hub", vals)
			if err != nil {
				t.Fatal(err)
			}
			out, err := helm3(t, "template", "flink-hub", chartDir(), "--namespace", "flink-hub", "--include-crds",
				"--kube-version", "v1.36.3", "--values", valuesFile(t, vals))
			if err != nil {
				t.Fatal(err)
			}
			objects, err := parseManifest(out)
			if err != nil {
				t.Fatal(err)
			}
			got, wantObjects := byKindAndName(&rendered{objects: objects}), byKindAndName(want)
			if len(got) != len(wantObjects) {
				t.Errorf("Helm 3 rendered %d objects, Helm 4 %d", len(got), len(wantObjects))
			}
			for key, w := range wantObjects {
				g, ok := got[key]
				switch {
				case !ok:
					t.Errorf("Helm 3 did not render %s", key)
				case !reflect.DeepEqual(g, w):
					t.Errorf("%s differs:\nHelm 3: %v\nHelm 4: %v", key, g, w)
				}
			}
		})
	}
}

// TestHelm3LintsAndRejectsBadValues lints the chart with Helm 3 and checks
// that Helm 3 applies the values schema as Helm 4 does, naming the problem.
func TestHelm3LintsAndRejectsBadValues(t *testing.T) {
	for _, vals := range lintValues {
		if out, err := helm3(t, "lint", "--strict", chartDir(), "--namespace", "flink-hub", "--values", valuesFile(t, vals)); err != nil {
			t.Errorf("helm3 lint --strict with %v: %v\n%s", vals, err, out)
		}
	}
	for _, tc := range badValues {
		t.Run(tc.name, func(t *testing.T) {
			_, err := helm3(t, "template", "flink-hub", chartDir(), "--values", valuesFile(t, tc.vals))
			checkRejection(t, err, tc.want, tc.byTemplate)
		})
	}
}

// TestHelm3InstallUpgradeUninstall installs a release with Helm 3's CLI
// into the hub control plane, upgrades it with Helm 3, refuses an upgrade
// with bad values without touching the release, upgrades it with the Helm
// 4 SDK (as a user moving to Helm 4 does) and uninstalls it with Helm 3,
// which keeps the CRD as Helm keeps the crds/ folder.
func TestHelm3InstallUpgradeUninstall(t *testing.T) {
	ctx := context.Background()
	const release, ns = "h3", "flink-hub-h3"
	kubeconfig := kubeconfigFile(t, fleet.Hub.Kubeconfig)
	c := fleet.Hub.Client
	name := release + "-flink-hub"
	replicasAre := func(t *testing.T, want int32) {
		t.Helper()
		var d appsv1.Deployment
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &d); err != nil {
			t.Fatal(err)
		}
		if d.Spec.Replicas == nil || *d.Spec.Replicas != want {
			t.Fatalf("Deployment %s replicas = %v, want %d", name, d.Spec.Replicas, want)
		}
	}

	if _, err := helm3(t, "install", release, chartDir(), "--kubeconfig", kubeconfig, "--namespace", ns, "--create-namespace",
		"--values", valuesFile(t, map[string]any{"replicas": 2})); err != nil {
		t.Fatal(err)
	}
	replicasAre(t, 2)
	for _, obj := range []client.Object{&corev1.ServiceAccount{}, &rbacv1.Role{}, &rbacv1.RoleBinding{}, &corev1.Service{}} {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
			t.Errorf("%T %s not installed: %v", obj, name, err)
		}
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := c.Get(ctx, client.ObjectKey{Name: "memberclusters.hub.flink-hub.io"}, &crd); err != nil {
		t.Fatalf("chart CRD not installed: %v", err)
	}

	if _, err := helm3(t, "upgrade", release, chartDir(), "--kubeconfig", kubeconfig, "--namespace", ns, "--reuse-values",
		"--values", valuesFile(t, map[string]any{"replicas": 4})); err != nil {
		t.Fatal(err)
	}
	replicasAre(t, 4)

	_, err := helm3(t, "upgrade", release, chartDir(), "--kubeconfig", kubeconfig, "--namespace", ns, "--reuse-values",
		"--values", valuesFile(t, map[string]any{"replicas": "three"}))
	if err == nil || !strings.Contains(err.Error(), schemaRejection) {
		t.Fatalf("upgrade with bad values: got %v, want a schema rejection", err)
	}
	replicasAre(t, 4)
	checkHistoryAfterRefusedUpgrade(t, kubeconfig, release, ns)

	r := upgrade(t, fleet.Hub.Kubeconfig, release, ns, map[string]any{"replicas": 3})
	if r.find("Deployment", name) == nil {
		t.Fatalf("Helm 4 upgrade rendered no Deployment %s", name)
	}
	replicasAre(t, 3)

	if _, err := helm3(t, "uninstall", release, "--kubeconfig", kubeconfig, "--namespace", ns); err != nil {
		t.Fatal(err)
	}
	if err := framework.Eventually(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		for _, obj := range []client.Object{&appsv1.Deployment{}, &corev1.ServiceAccount{}, &rbacv1.Role{}, &rbacv1.RoleBinding{}, &corev1.Service{}} {
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); !apierrors.IsNotFound(err) {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		t.Fatalf("release objects left after uninstall: %v", err)
	}
	if err := c.Get(ctx, client.ObjectKey{Name: "memberclusters.hub.flink-hub.io"}, &crd); err != nil {
		t.Errorf("uninstall removed the CRD: %v", err)
	}
}

// checkHistoryAfterRefusedUpgrade checks that Helm 3's history of release holds
// two revisions, the last deployed: a refused upgrade added none.
func checkHistoryAfterRefusedUpgrade(t *testing.T, kubeconfig, release, ns string) {
	t.Helper()
	history, err := helm3(t, "history", release, "--kubeconfig", kubeconfig, "--namespace", ns, "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var revisions []struct {
		Revision int    `json:"revision"`
		Status   string `json:"status"`
	}
	if err := json.Unmarshal([]byte(history), &revisions); err != nil {
		t.Fatalf("helm3 history: %v\n%s", err, history)
	}
	if len(revisions) != 2 || revisions[1].Status != "deployed" {
		t.Fatalf("history after a refused upgrade = %+v, want 2 revisions, the last deployed", revisions)
	}
}
