package conformance

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
)

func readCRD(t *testing.T, path string) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.Unmarshal(data, crd); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return crd
}

// crdPairs are our CRDs and the upstream ones they must match.
var crdPairs = []struct{ ours, upstream string }{
	{"flink.apache.org_flinkdeployments.yaml", "flinkdeployments.flink.apache.org-v1.yml"},
	{"flink.apache.org_flinksessionjobs.yaml", "flinksessionjobs.flink.apache.org-v1.yml"},
	{"flink.apache.org_flinkstatesnapshots.yaml", "flinkstatesnapshots.flink.apache.org-v1.yml"},
}

// TestCRDShapeMatchesUpstream compares what kubectl and HPAs see besides the
// schema: names, scope, subresources and printer columns.
func TestCRDShapeMatchesUpstream(t *testing.T) {
	for _, pair := range crdPairs {
		t.Run(pair.ours, func(t *testing.T) {
			checkCRDShape(t, readCRD(t, filepath.Join(framework.CRDDir(), pair.ours)), readCRD(t, filepath.Join(framework.UpstreamCRDDir(), pair.upstream)))
		})
	}
}

// TestCRDKeepsEveryUpstreamField: every field path of the upstream schema
// is in ours (or under a part of ours that keeps any JSON), with the same
// type, so nothing a user of the Apache operator writes is pruned.
func TestCRDKeepsEveryUpstreamField(t *testing.T) {
	for _, pair := range crdPairs {
		t.Run(pair.ours, func(t *testing.T) {
			ours := schemaFields(readCRD(t, filepath.Join(framework.CRDDir(), pair.ours)).Spec.Versions[0].Schema.OpenAPIV3Schema, "")
			up := schemaFields(readCRD(t, filepath.Join(framework.UpstreamCRDDir(), pair.upstream)).Spec.Versions[0].Schema.OpenAPIV3Schema, "")
			for path, typ := range up {
				if keptAnyway(ours, path) {
					continue
				}
				got, ok := ours[path]
				switch {
				case !ok:
					t.Errorf("%s: upstream keeps %s (%s), ours does not", pair.ours, path, typ)
				case got != typ && typ != "" && got != "" && got != preserved:
					t.Errorf("%s: %s is %s upstream, %s in ours", pair.ours, path, typ, got)
				}
			}
		})
	}
}

// preserved marks a schema node that keeps any JSON below it.
const preserved = "preserve-unknown-fields"

// schemaFields lists every field path of s (".spec.job.jarURI", "[]" for
// list items, "{}" for map values) with its type, preserved for a node
// that keeps unknown fields.
func schemaFields(s *apiextensionsv1.JSONSchemaProps, path string) map[string]string {
	out := map[string]string{path: s.Type}
	if s.XPreserveUnknownFields != nil && *s.XPreserveUnknownFields {
		out[path] = preserved
	}
	for name, p := range s.Properties {
		maps.Copy(out, schemaFields(&p, path+"."+name))
	}
	if s.Items != nil && s.Items.Schema != nil {
		maps.Copy(out, schemaFields(s.Items.Schema, path+"[]"))
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		maps.Copy(out, schemaFields(s.AdditionalProperties.Schema, path+"{}"))
	}
	return out
}

// keptAnyway reports whether path lies below a node of fields that keeps
// any JSON.
func keptAnyway(fields map[string]string, path string) bool {
	for p := parentPath(path); p != ""; p = parentPath(p) {
		if fields[p] == preserved {
			return true
		}
	}
	return false
}

// parentPath is path without its last step.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[{")
	if i <= 0 {
		return ""
	}
	return path[:i]
}

// checkCRDShape compares names, scope, versions, subresources and printer
// columns of ourCRD and upCRD.
func checkCRDShape(t *testing.T, ourCRD, upCRD *apiextensionsv1.CustomResourceDefinition) {
	t.Helper()

	if ourCRD.Name != upCRD.Name || ourCRD.Spec.Group != upCRD.Spec.Group || ourCRD.Spec.Scope != upCRD.Spec.Scope {
		t.Errorf("identity: ours %s/%s/%s, upstream %s/%s/%s", ourCRD.Name, ourCRD.Spec.Group, ourCRD.Spec.Scope, upCRD.Name, upCRD.Spec.Group, upCRD.Spec.Scope)
	}
	// The apiserver defaults an empty listKind to <Kind>List.
	if upCRD.Spec.Names.ListKind == "" {
		upCRD.Spec.Names.ListKind = upCRD.Spec.Names.Kind + "List"
	}
	if !reflect.DeepEqual(ourCRD.Spec.Names, upCRD.Spec.Names) {
		t.Errorf("names: ours %+v, upstream %+v", ourCRD.Spec.Names, upCRD.Spec.Names)
	}
	if len(ourCRD.Spec.Versions) != 1 || len(upCRD.Spec.Versions) != 1 {
		t.Fatalf("versions: ours %d, upstream %d", len(ourCRD.Spec.Versions), len(upCRD.Spec.Versions))
	}
	ov, uv := ourCRD.Spec.Versions[0], upCRD.Spec.Versions[0]
	if ov.Name != uv.Name || ov.Served != uv.Served || ov.Storage != uv.Storage {
		t.Errorf("version: ours %s served=%t storage=%t, upstream %s served=%t storage=%t", ov.Name, ov.Served, ov.Storage, uv.Name, uv.Served, uv.Storage)
	}
	if !reflect.DeepEqual(ov.Subresources, uv.Subresources) {
		t.Errorf("subresources: ours %+v, upstream %+v", ov.Subresources, uv.Subresources)
	}
	if len(ov.AdditionalPrinterColumns) != len(uv.AdditionalPrinterColumns) {
		t.Fatalf("printer columns: ours %+v, upstream %+v", ov.AdditionalPrinterColumns, uv.AdditionalPrinterColumns)
	}
	for i := range ov.AdditionalPrinterColumns {
		o, u := ov.AdditionalPrinterColumns[i], uv.AdditionalPrinterColumns[i]
		if o.Name != u.Name || o.JSONPath != u.JSONPath || o.Type != u.Type || o.Priority != u.Priority {
			t.Errorf("printer column %d: ours %+v, upstream %+v", i, o, u)
		}
	}
}

// TestScaleSubresourceDrivesTaskManagerReplicas is what an HPA does: read
// and write /scale, which must land in spec.taskManager.replicas and read
// status.taskManager.
func TestScaleSubresourceDrivesTaskManagerReplicas(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, cp := range []*framework.ControlPlane{ours, upstream} {
		obj := basicExample(t).DeepCopy()
		obj.SetNamespace("default")
		obj.SetName("scaled")
		if err := unstructured.SetNestedField(obj.Object, int64(1), "spec", "taskManager", "replicas"); err != nil {
			t.Fatal(err)
		}
		if err := cp.Client.Create(ctx, obj); err != nil {
			t.Fatalf("%s: create: %v", cp.Name, err)
		}
		t.Cleanup(func() { _ = cp.Client.Delete(context.Background(), obj) })

		if err := unstructured.SetNestedMap(obj.Object, map[string]any{"replicas": int64(1), "labelSelector": "app=scaled,component=taskmanager"}, "status", "taskManager"); err != nil {
			t.Fatal(err)
		}
		if err := cp.Client.Status().Update(ctx, obj); err != nil {
			t.Fatalf("%s: status update: %v", cp.Name, err)
		}

		typed := &flinkv1beta1.FlinkDeployment{}
		typed.SetNamespace(obj.GetNamespace())
		typed.SetName(obj.GetName())
		scale := &autoscalingv1.Scale{}
		if err := cp.Client.SubResource("scale").Get(ctx, typed, scale); err != nil {
			t.Fatalf("%s: get scale: %v", cp.Name, err)
		}
		if scale.Spec.Replicas != 1 || scale.Status.Replicas != 1 || scale.Status.Selector != "app=scaled,component=taskmanager" {
			t.Fatalf("%s: scale %+v", cp.Name, scale)
		}
		scale.Spec.Replicas = 4
		if err := cp.Client.SubResource("scale").Update(ctx, typed, client.WithSubResourceBody(scale)); err != nil {
			t.Fatalf("%s: update scale: %v", cp.Name, err)
		}
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(obj.GroupVersionKind())
		if err := cp.Client.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
			t.Fatal(err)
		}
		if r, _, _ := unstructured.NestedInt64(got.Object, "spec", "taskManager", "replicas"); r != 4 {
			t.Fatalf("%s: spec.taskManager.replicas = %d after scaling to 4", cp.Name, r)
		}
	}
}
