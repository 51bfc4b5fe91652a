package conformance

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/framework"
)

// serverSet are metadata fields each apiserver fills in its own way.
var serverSet = []string{"uid", "resourceVersion", "creationTimestamp", "managedFields"}

// namedObject is an upstream example document.
type namedObject struct {
	Name   string
	Object *unstructured.Unstructured
}

// upstreamDocuments are every FlinkDeployment and FlinkSessionJob of the
// upstream examples.
func upstreamDocuments(t *testing.T) []namedObject {
	t.Helper()
	var out []namedObject
	for _, ex := range flinkDeploymentExamples(t) {
		out = append(out, namedObject{ex.Name, ex.Object})
	}
	jobs, err := examples.LoadSessionJobs()
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) < 2 {
		t.Fatalf("found %d FlinkSessionJob examples, basic-session-deployment-and-job.yaml has two: is testdata intact?", len(jobs))
	}
	for _, j := range jobs {
		out = append(out, namedObject{j.Name, j.Object})
	}
	snaps, err := examples.LoadSnapshots()
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) < 5 {
		t.Fatalf("found %d FlinkStateSnapshot examples, the upstream snapshot folder has five: is testdata intact?", len(snaps))
	}
	for _, s := range snaps {
		out = append(out, namedObject{s.Name, s.Object})
	}
	return out
}

// TestDeploymentFromASnapshotIsKept: the FlinkDeployment of the upstream
// snapshot examples, started from a snapshot by job.initialStateReference
// (a field newer than the upstream CRD this repository compares with), is
// accepted and stored field for field.
func TestDeploymentFromASnapshotIsKept(t *testing.T) {
	fds, err := examples.LoadSnapshotDeployments()
	if err != nil || len(fds) != 1 {
		t.Fatalf("snapshot example deployments: %d, %v; want the one of job-from-savepoint.yaml", len(fds), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	obj := fds[0].Object.DeepCopy()
	obj.SetNamespace("default")
	if err := ours.Client.Create(ctx, obj); err != nil {
		t.Fatalf("ours rejects %s: %v", fds[0].Name, err)
	}
	t.Cleanup(func() { _ = ours.Client.Delete(context.Background(), obj) })
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(obj.GroupVersionKind())
	if err := ours.Client.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
		t.Fatal(err)
	}
	wantSpec, _, _ := unstructured.NestedMap(obj.Object, "spec")
	gotSpec, _, _ := unstructured.NestedMap(got.Object, "spec")
	if !reflect.DeepEqual(normalize(t, wantSpec), normalize(t, gotSpec)) {
		t.Fatalf("spec changed on the way through the apiserver\nwrote: %s\nread:  %s", mustJSON(wantSpec), mustJSON(gotSpec))
	}
	if ref := fds[0].Typed.Spec.Job.InitialStateReference; ref == nil || ref.Name != "example-savepoint" {
		t.Errorf("initialStateReference decoded as %+v", ref)
	}
}

func TestUpstreamExamplesRoundTripIdentically(t *testing.T) {
	docs := upstreamDocuments(t)
	if len(docs) < 7 {
		t.Fatalf("found %d examples, the upstream folder has more: is testdata intact?", len(docs))
	}
	for _, ex := range docs {
		t.Run(ex.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var readBack []map[string]any
			for _, cp := range []*framework.ControlPlane{ours, upstream} {
				obj := ex.Object.DeepCopy()
				obj.SetNamespace("default")
				if err := cp.Client.Create(ctx, obj); err != nil {
					t.Fatalf("%s rejects %s: %v", cp.Name, ex.Name, err)
				}
				t.Cleanup(func() { _ = cp.Client.Delete(context.Background(), obj) })
				got := &unstructured.Unstructured{}
				got.SetGroupVersionKind(obj.GroupVersionKind())
				if err := cp.Client.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil {
					t.Fatalf("%s: read back: %v", cp.Name, err)
				}
				for _, f := range serverSet {
					unstructured.RemoveNestedField(got.Object, "metadata", f)
				}
				readBack = append(readBack, got.Object)
			}
			if !reflect.DeepEqual(readBack[0], readBack[1]) {
				t.Fatalf("stored objects differ\nours:     %s\nupstream: %s", mustJSON(readBack[0]), mustJSON(readBack[1]))
			}
			// Nothing the user wrote may be pruned by either schema.
			want := ex.Object.DeepCopy()
			want.SetNamespace("default")
			wantSpec, _, _ := unstructured.NestedMap(want.Object, "spec")
			gotSpec, _, _ := unstructured.NestedMap(readBack[0], "spec")
			if !reflect.DeepEqual(normalize(t, wantSpec), normalize(t, gotSpec)) {
				t.Fatalf("spec changed on the way through the apiserver\nwrote: %s\nread:  %s", mustJSON(wantSpec), mustJSON(gotSpec))
			}
		})
	}
}

func TestInvalidFlinkDeploymentsAreRejectedByBoth(t *testing.T) {
	cases := []struct {
		name  string
		path  []string
		value any
		// field is the path the apiserver must name in its message.
		field string
	}{
		{"unknown mode", []string{"spec", "mode"}, "hybrid", "spec.mode"},
		{"unknown upgradeMode", []string{"spec", "job", "upgradeMode"}, "fast", "spec.job.upgradeMode"},
		{"unknown job state", []string{"spec", "job", "state"}, "paused", "spec.job.state"},
		{"unknown flinkVersion", []string{"spec", "flinkVersion"}, "v0_9", "spec.flinkVersion"},
		{"parallelism as text", []string{"spec", "job", "parallelism"}, "two", "spec.job.parallelism"},
		{"replicas as text", []string{"spec", "taskManager", "replicas"}, "three", "spec.taskManager.replicas"},
		{"image as number", []string{"spec", "image"}, int64(42), "spec.image"},
		{"args not a list", []string{"spec", "job", "args"}, "--verbose", "spec.job.args"},
		{"cpu as text", []string{"spec", "jobManager", "resource", "cpu"}, "lots", "spec.jobManager.resource.cpu"},
		{"nonce as text", []string{"spec", "restartNonce"}, "again", "spec.restartNonce"},
		{"log configuration value not text", []string{"spec", "logConfiguration"}, map[string]any{"log4j-console.properties": int64(1)}, "spec.logConfiguration"},
		{"ingress tls not a list", []string{"spec", "ingress", "tls"}, map[string]any{"secretName": "x"}, "spec.ingress.tls"},
	}
	base := basicExample(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for _, cp := range []*framework.ControlPlane{ours, upstream} {
				obj := base.DeepCopy()
				obj.SetNamespace("default")
				obj.SetName("invalid-" + string(rune('a'+i)))
				if err := unstructured.SetNestedField(obj.Object, tc.value, tc.path...); err != nil {
					t.Fatalf("set %v: %v", tc.path, err)
				}
				err := cp.Client.Create(ctx, obj)
				if err == nil {
					_ = cp.Client.Delete(ctx, obj)
					t.Fatalf("%s accepted %s=%v", cp.Name, tc.field, tc.value)
				}
				if !apierrors.IsInvalid(err) {
					t.Fatalf("%s: want a validation error, got %v", cp.Name, err)
				}
				if !strings.Contains(err.Error(), tc.field) {
					t.Fatalf("%s: error does not name %s: %v", cp.Name, tc.field, err)
				}
			}
		})
	}
}

// flinkDeploymentExamples reads every FlinkDeployment document of every
// upstream example file.
func flinkDeploymentExamples(t *testing.T) []examples.Example {
	t.Helper()
	all, err := examples.Load()
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func basicExample(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	for _, ex := range flinkDeploymentExamples(t) {
		if strings.HasPrefix(ex.Name, "basic/") {
			return ex.Object
		}
	}
	t.Fatal("basic.yaml has no FlinkDeployment")
	return nil
}

// normalize makes YAML-decoded and JSON-decoded values comparable (int64
// versus float64 numbers).
func normalize(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal([]byte(mustJSON(v)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
