package chart_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

// TestChartRefusesACMEIssuer installs the chart (a server-side dry run,
// which renders with the cluster's objects as an install does) with
// webhook.certManager.issuerRef naming issuers of a cluster serving
// cert-manager's API: an ACME Issuer or ClusterIssuer, which cannot issue
// the webhook Service's in-cluster names nor give the ca.crt the hub
// registers as the caBundle, is refused with a message saying what to
// name; a CA issuer, one not created yet, one of another issuer group, or
// any with checkIssuer off passes.
func TestChartRefusesACMEIssuer(t *testing.T) {
	ctx := context.Background()
	const ns = "issuer-check"
	serveCertManagerAPI(t, ctx)
	if err := fleet.Hub.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	acme := map[string]any{"server": "https://acme-v02.api.letsencrypt.org/directory", "privateKeySecretRef": map[string]any{"name": "acme-key"}}
	for _, issuer := range []struct {
		kind, ns, name string
		spec           map[string]any
	}{
		{"Issuer", ns, "letsencrypt", map[string]any{"acme": acme}},
		{"ClusterIssuer", "", "public-acme", map[string]any{"acme": acme}},
		{"Issuer", ns, "internal-ca", map[string]any{"ca": map[string]any{"secretName": "internal-ca"}}},
	} {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "cert-manager.io/v1", "kind": issuer.kind,
			"metadata": map[string]any{"name": issuer.name, "namespace": issuer.ns}, "spec": issuer.spec}}
		if err := fleet.Hub.Client.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name    string
		certMgr map[string]any
		refusal string // "" when the install passes
	}{
		{"ACME Issuer", map[string]any{"issuerRef": map[string]any{"name": "letsencrypt"}}, `Issuer "letsencrypt" is an ACME issuer`},
		{"ACME ClusterIssuer", map[string]any{"issuerRef": map[string]any{"name": "public-acme", "kind": "ClusterIssuer"}}, `ClusterIssuer "public-acme" is an ACME issuer`},
		{"CA Issuer", map[string]any{"issuerRef": map[string]any{"name": "internal-ca"}}, ""},
		{"issuer not created yet", map[string]any{"issuerRef": map[string]any{"name": "later", "kind": "ClusterIssuer"}}, ""},
		{"external issuer", map[string]any{"issuerRef": map[string]any{"name": "pca", "kind": "AWSPCAClusterIssuer", "group": "awspca.cert-manager.io"}}, ""},
		{"check off", map[string]any{"issuerRef": map[string]any{"name": "letsencrypt"}, "checkIssuer": false}, ""},
		{"chart's own CA", map[string]any{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.certMgr["enabled"] = true
			in := action.NewInstall(actionConfig(t, fleet.Hub.Kubeconfig, ns))
			in.ReleaseName, in.Namespace, in.DryRunStrategy = "issuer", ns, action.DryRunServer
			_, err := in.Run(loadChart(t), map[string]any{"webhook": map[string]any{"url": exampleWebhookURL, "certManager": tc.certMgr}})
			switch {
			case tc.refusal == "" && err != nil:
				t.Fatalf("install refused: %v", err)
			case tc.refusal != "" && (err == nil || !strings.Contains(err.Error(), tc.refusal) || !strings.Contains(err.Error(), "Name a CA issuer")):
				t.Fatalf("install: %v; want a refusal naming %q and what to name instead", err, tc.refusal)
			}
		})
	}
}

// serveCertManagerAPI makes the hub serve cert-manager.io/v1 Issuer,
// ClusterIssuer and Certificate (schemaless stand-ins for cert-manager's
// CRDs) and waits until they are served.
func serveCertManagerAPI(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, r := range []struct {
		kind, plural string
		scope        apiextensionsv1.ResourceScope
	}{
		{"Issuer", "issuers", apiextensionsv1.NamespaceScoped},
		{"ClusterIssuer", "clusterissuers", apiextensionsv1.ClusterScoped},
		{"Certificate", "certificates", apiextensionsv1.NamespaceScoped},
	} {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		crd.Name = r.plural + ".cert-manager.io"
		crd.Spec = apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "cert-manager.io", Scope: r.scope,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: r.kind, ListKind: r.kind + "List", Plural: r.plural, Singular: strings.ToLower(r.kind)},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: ptr.To(true)}}}},
		}
		if err := fleet.Hub.Client.Create(ctx, crd); err != nil {
			t.Fatal(err)
		}
		if err := framework.Eventually(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
			if err := fleet.Hub.Client.Get(ctx, client.ObjectKeyFromObject(crd), crd); err != nil {
				return false, err
			}
			for _, c := range crd.Status.Conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		}); err != nil {
			t.Fatalf("CRD %s never established: %v", crd.Name, err)
		}
	}
}
