package chart_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/kube"
	release "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/yaml"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

// chartDir is the chart under test.
func chartDir() string { return filepath.Join(framework.RepoRoot(), "deploy", "charts", "flink-hub") }

// rendered is a chart rendered for one set of values.
type rendered struct {
	objects []*unstructured.Unstructured
	notes   string
}

// find returns the object of kind and name, or nil.
func (r *rendered) find(kind, name string) *unstructured.Unstructured {
	for _, o := range r.objects {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// into decodes the object of kind and name strictly into out, failing the
// test when it is missing or has fields out does not know.
func (r *rendered) into(t *testing.T, kind, name string, out any) {
	t.Helper()
	o := r.find(kind, name)
	if o == nil {
		t.Fatalf("no %s %s rendered", kind, name)
	}
	raw, err := yaml.Marshal(o.Object)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(raw, out); err != nil {
		t.Fatalf("%s %s: %v", kind, name, err)
	}
}

// render renders the chart as release name in namespace ns, client-side.
func render(release_, ns string, vals map[string]any) (*rendered, error) {
	ch, err := loader.Load(chartDir())
	if err != nil {
		return nil, err
	}
	install := action.NewInstall(action.NewConfiguration())
	install.DryRunStrategy = action.DryRunClient
	install.ReleaseName, install.Namespace = release_, ns
	install.IncludeCRDs = true
	// Client-side rendering otherwise assumes an old Kubernetes.
	install.KubeVersion, err = common.ParseKubeVersion("v1.36.3")
	if err != nil {
		return nil, err
	}
	rel, err := install.Run(ch, vals)
	if err != nil {
		return nil, err
	}
	r := rel.(*release.Release)
	objects, err := parseManifest(r.Manifest)
	if err != nil {
		return nil, err
	}
	return &rendered{objects: objects, notes: r.Info.Notes}, nil
}

// parseManifest splits a rendered manifest into its objects.
func parseManifest(manifest string) ([]*unstructured.Unstructured, error) {
	var objects []*unstructured.Unstructured
	for _, doc := range strings.Split(manifest, "\n---") {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return nil, fmt.Errorf("rendered YAML: %w\n%s", err, doc)
		}
		if len(obj) > 0 {
			objects = append(objects, &unstructured.Unstructured{Object: obj})
		}
	}
	return objects, nil
}

// install installs the chart into the cluster of kubeconfig and returns
// the rendered objects.
func install(t *testing.T, kubeconfig []byte, releaseName, ns string, vals map[string]any) *rendered {
	t.Helper()
	in := action.NewInstall(actionConfig(t, kubeconfig, ns))
	in.ReleaseName, in.Namespace, in.CreateNamespace = releaseName, ns, true
	in.ServerSideApply = true
	// No kubelet runs the pods: do not wait for them.
	in.WaitStrategy = kube.HookOnlyStrategy
	rel, err := in.Run(loadChart(t), vals)
	if err != nil {
		t.Fatalf("helm install: %v", err)
	}
	return releaseObjects(t, rel)
}

// upgrade upgrades release releaseName in ns of the cluster of kubeconfig
// to the chart, keeping the release's values and setting vals over them,
// and returns the rendered objects.
func upgrade(t *testing.T, kubeconfig []byte, releaseName, ns string, vals map[string]any) *rendered {
	t.Helper()
	up := action.NewUpgrade(actionConfig(t, kubeconfig, ns))
	up.Namespace, up.ReuseValues = ns, true
	up.ServerSideApply = "auto"
	up.WaitStrategy = kube.HookOnlyStrategy
	rel, err := up.Run(releaseName, loadChart(t), vals)
	if err != nil {
		t.Fatalf("helm upgrade: %v", err)
	}
	return releaseObjects(t, rel)
}

// actionConfig is a Helm action configuration for ns of the cluster of
// kubeconfig, keeping releases in Secrets as Helm does by default.
func actionConfig(t *testing.T, kubeconfig []byte, ns string) *action.Configuration {
	t.Helper()
	path := kubeconfigFile(t, kubeconfig)
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &path
	flags.Namespace = &ns
	cfg := action.NewConfiguration()
	if err := cfg.Init(flags, ns, "secret"); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// kubeconfigFile writes kubeconfig to a file of the test's own and returns
// its path.
func kubeconfigFile(t *testing.T, kubeconfig []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadChart loads the chart under test.
func loadChart(t *testing.T) chart.Charter {
	t.Helper()
	ch, err := loader.Load(chartDir())
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// releaseObjects returns the objects and notes of a release.
func releaseObjects(t *testing.T, rel any) *rendered {
	t.Helper()
	r := rel.(*release.Release)
	objects, err := parseManifest(r.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	return &rendered{objects: objects, notes: r.Info.Notes}
}
