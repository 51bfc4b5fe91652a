package crdinstall

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/framework"
)

// member is a control plane without any CRD.
var member *framework.ControlPlane

func TestMain(m *testing.M) {
	os.Exit(framework.RunWithControlPlane(m, framework.ControlPlaneOptions{Name: "bare-member"}, func(cp *framework.ControlPlane) { member = cp }))
}

func getCRD(t *testing.T) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := member.Client.Get(context.Background(), client.ObjectKey{Name: "flinkdeployments.flink.apache.org"}, crd); err != nil {
		t.Fatal(err)
	}
	return crd
}

func install(t *testing.T, i *Installer, wantReason string) {
	t.Helper()
	st, err := i.Install(context.Background(), member.Client, member.Client)
	if err != nil || st.Reason != wantReason {
		t.Fatalf("Install = %+v, %v; want reason %s", st, err, wantReason)
	}
}

// The steps build on each other: install, re-apply, repair, refuse to
// downgrade.
func TestInstall(t *testing.T) {
	ctx := context.Background()
	i, err := New(true)
	if err != nil {
		t.Fatal(err)
	}

	install(t, i, hubv1alpha1.ReasonInstalled)
	crd := getCRD(t)
	if crd.Annotations[RevisionAnnotation] != strconv.Itoa(Revision) || crd.Annotations[InstalledByAnnotation] != InstalledBy {
		t.Fatalf("annotations = %v, want the revision and installed-by", crd.Annotations)
	}
	applied := false
	for _, mf := range crd.ManagedFields {
		applied = applied || (mf.Manager == FieldManager && mf.Operation == metav1.ManagedFieldsOperationApply)
	}
	if !applied {
		t.Fatalf("the CRD was not server-side applied by %s: %+v", FieldManager, crd.ManagedFields)
	}
	// The installed CRDs serve FlinkDeployments and FlinkSessionJobs.
	framework.AwaitWithin(t, 30*time.Second, "FlinkDeployments served after install", func() error {
		fd := &flinkv1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: "default"}}
		return member.Client.Create(ctx, fd)
	})
	framework.AwaitWithin(t, 30*time.Second, "FlinkSessionJobs served after install", func() error {
		job := &flinkv1beta1.FlinkSessionJob{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: "default"},
			Spec: flinkv1beta1.FlinkSessionJobSpec{DeploymentName: "probe"}}
		return member.Client.Create(ctx, job)
	})

	t.Run("re-applying changes nothing", func(t *testing.T) {
		rv := getCRD(t).ResourceVersion
		install(t, i, hubv1alpha1.ReasonInstalled)
		if got := getCRD(t).ResourceVersion; got != rv {
			t.Fatalf("a no-op apply wrote the CRD: resourceVersion %s -> %s", rv, got)
		}
	})

	t.Run("a drifted CRD is repaired", func(t *testing.T) {
		crd := getCRD(t)
		crd.Spec.Versions[0].AdditionalPrinterColumns = nil
		if err := member.Client.Update(ctx, crd); err != nil {
			t.Fatal(err)
		}
		install(t, i, hubv1alpha1.ReasonInstalled)
		if len(getCRD(t).Spec.Versions[0].AdditionalPrinterColumns) == 0 {
			t.Fatal("printer columns not restored")
		}
	})

	t.Run("a newer hub's CRD is left alone", func(t *testing.T) {
		crd := getCRD(t)
		crd.Annotations[RevisionAnnotation] = strconv.Itoa(Revision + 1)
		crd.Spec.Versions[0].AdditionalPrinterColumns = nil
		if err := member.Client.Update(ctx, crd); err != nil {
			t.Fatal(err)
		}
		rv := getCRD(t).ResourceVersion
		install(t, i, hubv1alpha1.ReasonNewerCRDPresent)
		if got := getCRD(t).ResourceVersion; got != rv {
			t.Fatal("the hub replaced a newer CRD")
		}
	})
}

// TestInstallJudgesAgainAfterAConflict changes the CRD between the
// installer's read and its apply, as another replica installing it at the
// same moment does: the installer reads and judges it again at once, up to
// conflictTries times.
func TestInstallJudgesAgainAfterAConflict(t *testing.T) {
	ctx := context.Background()
	i, err := New(true)
	if err != nil {
		t.Fatal(err)
	}
	// TestInstall may have left a newer hub's revision: this hub's again.
	if crd := getCRD(t); crd.Annotations[RevisionAnnotation] != strconv.Itoa(Revision) {
		crd.Annotations[RevisionAnnotation] = strconv.Itoa(Revision)
		if err := member.Client.Update(ctx, crd); err != nil {
			t.Fatal(err)
		}
	}
	install(t, i, hubv1alpha1.ReasonInstalled)
	base, err := client.NewWithWatch(member.Config, client.Options{Scheme: framework.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		conflicts int
		wantErr   bool
	}{
		{"one write in between", 1, false},
		{"a write before every try", conflictTries, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bumps := 0
			c := interceptor.NewClient(base, interceptor.Funcs{Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
				if obj.GetName() == "flinkdeployments.flink.apache.org" && bumps < tc.conflicts {
					// Someone else writes the CRD after the installer read it.
					bumps++
					crd := getCRD(t)
					crd.Annotations["test.flink-hub.io/bump"] = strconv.FormatInt(time.Now().UnixNano(), 10)
					if err := member.Client.Update(ctx, crd); err != nil {
						t.Fatal(err)
					}
				}
				return c.Patch(ctx, obj, patch, opts...)
			}})
			st, err := i.Install(ctx, c, member.Client)
			if (err != nil) != tc.wantErr || (err != nil && !apierrors.IsConflict(err)) {
				t.Fatalf("Install = %+v, %v; want a conflict: %v", st, err, tc.wantErr)
			}
			if !tc.wantErr && st.Reason != hubv1alpha1.ReasonInstalled {
				t.Fatalf("Install = %+v, want installed", st)
			}
			if tc.wantErr && st.Reason != hubv1alpha1.ReasonInstallFailed {
				t.Fatalf("Install = %+v, want the conflict reported", st)
			}
			if bumps != tc.conflicts {
				t.Fatalf("%d writes in between, want %d", bumps, tc.conflicts)
			}
		})
	}
}

func TestNewer(t *testing.T) {
	i, err := New(true)
	if err != nil {
		t.Fatal(err)
	}
	crd := func(rev string, versions ...string) *apiextensionsv1.CustomResourceDefinition {
		c := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{}}}
		if rev != "" {
			c.Annotations[RevisionAnnotation] = rev
		}
		for _, v := range versions {
			c.Spec.Versions = append(c.Spec.Versions, apiextensionsv1.CustomResourceDefinitionVersion{Name: v, Served: true})
		}
		return c
	}
	cases := []struct {
		name  string
		crd   *apiextensionsv1.CustomResourceDefinition
		newer bool
	}{
		{"upstream operator's CRD", crd("", "v1beta1"), false},
		{"same revision", crd(strconv.Itoa(Revision), "v1beta1"), false},
		{"older revision", crd("0", "v1beta1"), false},
		{"higher revision", crd(strconv.Itoa(Revision+1), "v1beta1"), true},
		{"unknown served version", crd("", "v1beta1", "v1"), true},
	}
	for _, tc := range cases {
		if got := i.crds[0].newer(tc.crd) != ""; got != tc.newer {
			t.Errorf("%s: newer = %v, want %v", tc.name, got, tc.newer)
		}
	}
}

func TestDisabled(t *testing.T) {
	i, err := New(false)
	if err != nil {
		t.Fatal(err)
	}
	if err := i.Engage(context.Background(), "m", nil); err != nil {
		t.Fatal(err)
	}
	if st, ok := i.Status("m"); !ok || st.Reason != hubv1alpha1.ReasonInstallDisabled {
		t.Fatalf("Status = %+v, %v", st, ok)
	}
}
