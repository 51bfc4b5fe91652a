package clusters_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/internal/clusters"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
)

// TestRevokedKindTurnsUnreadable registers a member through `cluster
// add`'s code, behind a TCP proxy, lets the hub engage it with every kind
// readable, then takes a kind out of the registration's rules while the
// member stays engaged: an optional kind (FlinkStateSnapshots) from the
// ClusterRole, or a kind the controllers watch (Deployments) from one
// namespace's Role. The apiserver authorizes a watch when it opens, so the
// proxy cuts the hub's connections once the member refuses the hub's
// identity, as a watch's end (client-go reopens each every 5 to 10 min)
// does: the informer's watch and list are then refused on every retry.
// KindsReadable must turn False naming the kind and where it is refused,
// the cache must refuse the optional kind at once (the console says so)
// instead of serving what its informer no longer updates, and putting
// the rules back must make the kind readable again without re-engaging
// the member.
func TestRevokedKindTurnsUnreadable(t *testing.T) {
	cases := []struct {
		name       string
		member     int
		namespaces []string
		// where the resource is refused: "*" the ClusterRole, else that
		// namespace's Role.
		where    string
		resource string
		gvk      schema.GroupVersionKind
		// said is how the condition names the refusing namespaces.
		said     string
		optional bool
	}{
		{name: "optional kind across the cluster", member: 0, where: "*", resource: "flinkstatesnapshots",
			gvk: flinkv1beta1.GroupVersion.WithKind("FlinkStateSnapshot"), said: "across the cluster", optional: true},
		{name: "watched kind in one namespace", member: 1, namespaces: []string{"revoke-a", "revoke-b"}, where: "revoke-b", resource: "deployments",
			gvk: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, said: "in namespace revoke-b"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := fmt.Sprintf("revoke-%d", i)
			r := registerMember(t, fleet.Members[tc.member], ns, "revoke-apps", tc.namespaces)
			identity := behindProxy(t, r.secret)
			opts := testOptions(ns)
			opts.MemberWatchedKinds = flinkdeployment.WatchedMemberKinds() // as the hub binary
			hub := startHubAs(t, fleet.Hub.Config, opts)
			name := r.member.Name
			awaitEngaged(t, hub, name)
			waitCondition(t, ns, name, hubv1alpha1.ConditionKindsReadable, metav1.ConditionTrue, hubv1alpha1.ReasonKindsReadable)
			if tc.optional {
				checkSnapshotInformer(t, hub, name, true)
			}

			restore := refuseResource(t, r.member, "flink-hub:flink-hub:"+ns, tc.where, tc.resource)
			awaitRefused(t, identity.client, tc.gvk, strings.TrimPrefix(tc.where, "*"))
			identity.cut(t)
			_, c := waitCondition(t, ns, name, hubv1alpha1.ConditionKindsReadable, metav1.ConditionFalse, hubv1alpha1.ReasonForbidden)
			for _, want := range []string{tc.gvk.Kind + "s are not readable", tc.said, "cluster add"} {
				if !strings.Contains(c.Message, want) {
					t.Errorf("KindsReadable message %q lacks %q", c.Message, want)
				}
			}
			waitEvent(t, ns, name, corev1.EventTypeWarning, hubv1alpha1.ReasonForbidden)
			if tc.optional {
				checkSnapshotInformer(t, hub, name, false)
				checkConsoleAnswersAtOnce(t, hub, name, r.apps, r.fd, r.job, false)
			}

			restore()
			waitCondition(t, ns, name, hubv1alpha1.ConditionKindsReadable, metav1.ConditionTrue, hubv1alpha1.ReasonKindsReadable)
			if tc.optional {
				checkSnapshotInformer(t, hub, name, true)
			}
		})
	}
}

// proxiedIdentity is a registration whose Secret sends the hub through a
// TCP proxy, with a client of the member as the hub's identity.
type proxiedIdentity struct {
	proxy  *tcpProxy
	client client.Client
}

// behindProxy points the registration Secret's kubeconfig at a TCP proxy
// in front of the member's apiserver and returns the proxy with a direct
// client of the member as the registration's identity.
func behindProxy(t *testing.T, secret *corev1.Secret) proxiedIdentity {
	t.Helper()
	kubeconfig := secret.Data[memberconfig.SecretKey]
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := client.New(cfg, client.Options{Scheme: clusters.MemberScheme()})
	if err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, target.Host)
	patch := client.MergeFrom(secret.DeepCopy())
	secret.Data[memberconfig.SecretKey] = withServer(t, kubeconfig, "https://"+proxy.addr)
	if err := fleet.Hub.Client.Patch(t.Context(), secret, patch); err != nil {
		t.Fatal(err)
	}
	return proxiedIdentity{proxy: proxy, client: direct}
}

// cut closes the hub's connections to the member, which ends its watches,
// and lets it connect again.
func (p proxiedIdentity) cut(t *testing.T) {
	t.Helper()
	p.proxy.close()
	if err := p.proxy.open(); err != nil {
		t.Fatal(err)
	}
}

// awaitRefused waits until the member refuses identity a list of gvk in
// namespace (across the cluster when ""): the member's authorizer has
// seen the narrowed rules.
func awaitRefused(t *testing.T, identity client.Client, gvk schema.GroupVersionKind, namespace string) {
	t.Helper()
	eventually(t, 30*time.Second, gvk.Kind+"s refused to the hub's identity", func() error {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		err := identity.List(t.Context(), list, client.InNamespace(namespace), client.Limit(1))
		if !apierrors.IsForbidden(err) {
			return fmt.Errorf("list: %v", err)
		}
		return nil
	})
}
