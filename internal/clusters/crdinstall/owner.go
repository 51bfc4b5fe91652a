package crdinstall

import (
	"fmt"
	"slices"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flink-hub/flink-hub/internal/boundedtext"
)

// Labels and annotations that name who manages an object.
const (
	managedByLabel        = "app.kubernetes.io/managed-by"
	helmChartLabel        = "helm.sh/chart"
	helmReleaseAnnotation = "meta.helm.sh/release-name"
	helmNamespaceAnnot    = "meta.helm.sh/release-namespace"
)

// foreignOwner returns who installed the member's CRD, as far as its
// metadata tells, when that is not the hub; "" when the CRD is the hub's.
// An owner declared in labels or Helm annotations wins over the hub's
// marks: an older hub force-applied over other installers' CRDs.
func foreignOwner(crd *apiextensionsv1.CustomResourceDefinition) string {
	if who := declaredOwner(crd); who != "" {
		return who
	}
	if crd.Annotations[InstalledByAnnotation] == InstalledBy || appliedByHub(crd.ManagedFields) {
		return ""
	}
	if managers := fieldManagers(crd.ManagedFields); len(managers) > 0 {
		return "field manager " + clip(strings.Join(managers, ", "))
	}
	return "an unknown installer"
}

// declaredOwner names the owner the CRD's labels and Helm annotations
// declare, other than the hub; "" when none does. The values come from the
// member and are clipped.
func declaredOwner(crd *apiextensionsv1.CustomResourceDefinition) string {
	release, managedBy := crd.Annotations[helmReleaseAnnotation], crd.Labels[managedByLabel]
	chart := ""
	if c := crd.Labels[helmChartLabel]; c != "" {
		chart = ", chart " + clip(c)
	}
	switch {
	case release != "":
		return fmt.Sprintf("Helm release %s in namespace %s%s", clip(release), clip(crd.Annotations[helmNamespaceAnnot]), chart)
	case managedBy != "" && managedBy != InstalledBy:
		return fmt.Sprintf("%s (%s)%s", clip(managedBy), managedByLabel, chart)
	}
	return ""
}

// appliedByHub reports whether an older hub, which did not annotate, applied
// the CRD.
func appliedByHub(fields []metav1.ManagedFieldsEntry) bool {
	return slices.ContainsFunc(fields, func(f metav1.ManagedFieldsEntry) bool {
		return f.Manager == FieldManager && f.Operation == metav1.ManagedFieldsOperationApply
	})
}

// fieldManagers lists the managers of the CRD's spec and metadata.
func fieldManagers(fields []metav1.ManagedFieldsEntry) []string {
	var out []string
	for _, f := range fields {
		if f.Subresource == "" && f.Manager != "" && !slices.Contains(out, f.Manager) {
			out = append(out, f.Manager)
		}
	}
	slices.Sort(out)
	return out
}

// clip bounds a member-supplied string in a condition message: at most
// maxClip bytes, by boundedtext.Quote.
func clip(s string) string { return boundedtext.Quote(s, maxClip) }

// maxClip is the longest text clip keeps, "..." included.
const maxClip = 123
