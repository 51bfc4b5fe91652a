package crdinstall

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/framework"
)

// upstreamCRD is the Apache operator's FlinkDeployment CRD.
func upstreamCRD(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(framework.UpstreamCRDDir(), "flinkdeployments.flink.apache.org-v1.yml"))
	if err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(raw, &obj.Object); err != nil {
		t.Fatal(err)
	}
	return obj
}

// deleteCRD removes the member's FlinkDeployment CRD and waits until it is
// gone.
func deleteCRD(t *testing.T) {
	t.Helper()
	deleteCRDNamed(t, "flinkdeployments.flink.apache.org")
}

// deleteCRDNamed deletes the member's CRD name and waits until it is gone.
func deleteCRDNamed(t *testing.T, name string) {
	t.Helper()
	crd := &apiextensionsv1.CustomResourceDefinition{}
	crd.Name = name
	if err := member.Client.Delete(context.Background(), crd); client.IgnoreNotFound(err) != nil {
		t.Fatal(err)
	}
	// The apiextensions finalizer removes a CRD once its storage is torn
	// down; its retries back off, so on a loaded machine that can take
	// longer than a CRD's creation.
	framework.AwaitWithin(t, 2*time.Minute, "CRD deleted", func() error {
		err := member.Client.Get(context.Background(), client.ObjectKeyFromObject(crd), crd)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("still there: finalizers %v, conditions %+v", crd.Finalizers, crd.Status.Conditions)
	})
}

// established waits until the member's CRD is established (the
// apiextensions controller writes its status first) and returns it.
func established(t *testing.T) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	var crd *apiextensionsv1.CustomResourceDefinition
	framework.AwaitWithin(t, 30*time.Second, "CRD established", func() error {
		crd = getCRD(t)
		for _, c := range crd.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return nil
			}
		}
		return fmt.Errorf("conditions %+v", crd.Status.Conditions)
	})
	return crd
}

// TestOnlyTheHubsCRDIsUpdated puts a FlinkDeployment CRD into the member
// the way each installer would, then runs the hub's install: it updates
// only a CRD that is the hub's, and names the owner of any other.
func TestOnlyTheHubsCRDIsUpdated(t *testing.T) {
	i, err := New(true)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range ownerCases() {
		t.Run(tc.name, func(t *testing.T) { checkOwnerCase(t, i, tc) })
	}
	deleteCRD(t)
}

// ownerCase is a FlinkDeployment CRD put into the member as one installer
// would, and what the hub's install must then report.
type ownerCase struct {
	name     string
	upstream bool // start from the Apache operator's CRD, else the hub's
	put      func(*testing.T, *unstructured.Unstructured)
	reason   string
	owner    string // named in the message
}

func ownerCases() []ownerCase {
	return []ownerCase{
		{"Apache operator's chart, Helm-labelled", true, createdBy("helm", helmLabels), hubv1alpha1.ReasonForeignCRD,
			"Helm release flink-operator in namespace flink, chart flink-kubernetes-operator-1.13.0"},
		{"Apache operator's chart crds/ folder (no labels)", true, createdBy("helm", func(*unstructured.Unstructured) {}), hubv1alpha1.ReasonForeignCRD,
			"field manager helm"},
		{"Apache operator's CRD with kubectl", true, createdBy("kubectl-create", func(*unstructured.Unstructured) {}), hubv1alpha1.ReasonForeignCRD,
			"field manager kubectl-create"},
		{"a Helm chart's CRD an older hub force-applied over", true, func(t *testing.T, o *unstructured.Unstructured) {
			createdBy("helm", helmLabels)(t, o)
			o.SetResourceVersion("")
			appliedByOlderHub(t, o)
		}, hubv1alpha1.ReasonForeignCRD, "Helm release flink-operator"},
		{"an older hub's CRD", false, appliedByOlderHub, hubv1alpha1.ReasonInstalled, ""},
		{"the hub's CRD created from deploy/crds with kubectl", false, createdBy("kubectl-create", func(o *unstructured.Unstructured) {
			ann := o.GetAnnotations()
			delete(ann, RevisionAnnotation)
			o.SetAnnotations(ann)
		}), hubv1alpha1.ReasonInstalled, ""},
	}
}

// helmLabels labels and annotates o as the Apache operator's Helm chart
// does.
func helmLabels(o *unstructured.Unstructured) {
	o.SetLabels(map[string]string{"app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": "flink-kubernetes-operator-1.13.0"})
	o.SetAnnotations(map[string]string{"meta.helm.sh/release-name": "flink-operator", "meta.helm.sh/release-namespace": "flink"})
}

// createdBy returns a put that edits the CRD and creates it in the member
// as field manager manager.
func createdBy(manager string, edit func(*unstructured.Unstructured)) func(t *testing.T, o *unstructured.Unstructured) {
	return func(t *testing.T, o *unstructured.Unstructured) {
		t.Helper()
		edit(o)
		if err := member.Client.Create(context.Background(), o, client.FieldOwner(manager)); err != nil {
			t.Fatal(err)
		}
	}
}

// appliedByOlderHub applies o as hubs before the installed-by annotation
// did.
func appliedByOlderHub(t *testing.T, o *unstructured.Unstructured) {
	t.Helper()
	ann := o.GetAnnotations()
	delete(ann, InstalledByAnnotation)
	o.SetAnnotations(ann)
	o.SetManagedFields(nil)
	//lint:ignore SA1019 server-side apply of an unstructured object
	if err := member.Client.Patch(context.Background(), o, client.Apply, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		t.Fatal(err)
	}
}

// checkOwnerCase puts tc's CRD into a member without one and runs i's
// install: it reports tc's reason naming tc's owner, and rewrites only the
// hub's own CRD.
func checkOwnerCase(t *testing.T, i *Installer, tc ownerCase) {
	ctx := context.Background()
	deleteCRD(t)
	deleteCRDNamed(t, "flinksessionjobs.flink.apache.org")
	obj := i.crds[0].obj.DeepCopy()
	if tc.upstream {
		obj = upstreamCRD(t)
	}
	tc.put(t, obj)
	before := established(t)
	st, err := i.Install(ctx, member.Client, member.Client)
	if err != nil || st.Reason != tc.reason || !strings.Contains(st.Message, tc.owner) {
		t.Fatalf("Install = %+v, %v; want reason %s naming %q", st, err, tc.reason, tc.owner)
	}
	after := getCRD(t)
	switch tc.reason {
	case hubv1alpha1.ReasonInstalled:
		if after.Annotations[InstalledByAnnotation] != InstalledBy {
			t.Fatalf("the hub's CRD was not (re)applied: annotations %v", after.Annotations)
		}
	default:
		if after.Generation != before.Generation || !maps.Equal(after.Annotations, before.Annotations) || !maps.Equal(after.Labels, before.Labels) {
			t.Fatal("the hub wrote a CRD someone else installed")
		}
		if !strings.Contains(st.Message, "delete") {
			t.Errorf("the message should say what to do: %q", st.Message)
		}
	}
	// The FlinkDeployment CRD left alone does not keep the hub's session
	// job CRD from being installed.
	var jobs apiextensionsv1.CustomResourceDefinition
	if err := member.Client.Get(ctx, client.ObjectKey{Name: "flinksessionjobs.flink.apache.org"}, &jobs); err != nil || jobs.Annotations[InstalledByAnnotation] != InstalledBy {
		t.Errorf("the session job CRD was not installed beside a %s FlinkDeployment CRD: %v %v", tc.reason, err, jobs.Annotations)
	}
}
