package registration

import (
	"context"
	"errors"
	"fmt"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"os"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// FieldManager owns what `cluster add` applies.
const FieldManager = "kubectl-flinkhub"

// Options describes one registration.
type Options struct {
	// Name is the member's name in the hub: the Secret's name.
	Name string
	// HubNamespace is the hub namespace receiving the Secret.
	HubNamespace string
	// MemberNamespace holds the hub's ServiceAccount in the member.
	MemberNamespace string
	// ServiceAccount is the hub's identity in the member.
	ServiceAccount string
	// InstallCRDs grants the hub the CRD permissions it needs to install
	// the FlinkDeployment CRD.
	InstallCRDs bool
	// TokenTTL is the requested lifetime of the hub's token; the member's
	// apiserver may shorten it. Run `cluster add` again to rotate.
	TokenTTL time.Duration
	// Namespaces, when set, are the only member namespaces the hub may
	// manage: its namespaced rights are Roles there, and the Secret tells
	// the hub to watch only them. Empty: every namespace, cluster-wide.
	Namespaces []string
}

// WithDefaults fills empty fields with the defaults.
func (o Options) WithDefaults() Options {
	if o.HubNamespace == "" {
		o.HubNamespace = "flink-hub"
	}
	if o.MemberNamespace == "" {
		o.MemberNamespace = "flink-hub"
	}
	if o.ServiceAccount == "" {
		o.ServiceAccount = "flink-hub"
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = 30 * 24 * time.Hour
	}
	return o
}

// clusterRoleName is the member ClusterRole (and binding) of the hub.
func (o Options) clusterRoleName() string {
	return "flink-hub:" + o.MemberNamespace + ":" + o.ServiceAccount
}

// Validate checks the options' names.
func (o Options) Validate() error {
	if o.Name == "" {
		return errors.New("member name is empty")
	}
	if _, err := hubv1alpha1.ParseNamespaces(strings.Join(o.Namespaces, ",")); err != nil {
		return fmt.Errorf("--namespaces: %w", err)
	}
	return nil
}

// namespaces are Options.Namespaces cleaned (sorted, no duplicates); nil
// for every namespace. Call after Validate.
func (o Options) namespaces() []string {
	ns, _ := hubv1alpha1.ParseNamespaces(strings.Join(o.Namespaces, ","))
	return ns
}

// MemberObjects are the objects `cluster add` applies in the member: the
// namespace, the ServiceAccount, and a ClusterRole and binding of
// MemberRules; or, with Namespaces, a ClusterRole and binding of only
// ClusterScopedRules and a Role and RoleBinding of NamespacedRules in each
// of the namespaces; and a Role and binding of ClaimRules in
// hubv1alpha1.ClaimNamespace (all named after the ServiceAccount).
func MemberObjects(o Options) []client.Object {
	o = o.WithDefaults()
	labels := map[string]string{"app.kubernetes.io/managed-by": FieldManager}
	subjects := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: o.ServiceAccount, Namespace: o.MemberNamespace}}
	namespaces := o.namespaces()
	clusterRules := MemberRules(o.InstallCRDs)
	if len(namespaces) > 0 {
		clusterRules = ClusterScopedRules(o.InstallCRDs)
	}
	objs := []client.Object{
		&corev1.Namespace{TypeMeta: typeMeta("Namespace", "v1"), ObjectMeta: metav1.ObjectMeta{Name: o.MemberNamespace, Labels: labels}},
		&corev1.ServiceAccount{TypeMeta: typeMeta("ServiceAccount", "v1"), ObjectMeta: metav1.ObjectMeta{Name: o.ServiceAccount, Namespace: o.MemberNamespace, Labels: labels}},
		&rbacv1.ClusterRole{
			TypeMeta:   typeMeta("ClusterRole", rbacVersion),
			ObjectMeta: metav1.ObjectMeta{Name: o.clusterRoleName(), Labels: labels, Annotations: map[string]string{RulesRevisionAnnotation: RulesRevision()}},
			Rules:      clusterRules,
		},
		&rbacv1.ClusterRoleBinding{
			TypeMeta:   typeMeta("ClusterRoleBinding", rbacVersion),
			ObjectMeta: metav1.ObjectMeta{Name: o.clusterRoleName(), Labels: labels},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: o.clusterRoleName()},
			Subjects:   subjects,
		},
	}
	role := func(ns string, rules []rbacv1.PolicyRule) []client.Object {
		meta := metav1.ObjectMeta{Name: o.clusterRoleName(), Namespace: ns, Labels: labels}
		return []client.Object{
			&rbacv1.Role{TypeMeta: typeMeta("Role", rbacVersion), ObjectMeta: meta, Rules: rules},
			&rbacv1.RoleBinding{
				TypeMeta:   typeMeta("RoleBinding", rbacVersion),
				ObjectMeta: meta,
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: o.clusterRoleName()},
				Subjects:   subjects,
			},
		}
	}
	claimRules := ClaimRules()
	for _, ns := range namespaces {
		if ns == hubv1alpha1.ClaimNamespace {
			objs = append(objs, role(ns, append(NamespacedRules(), claimRules...))...)
			claimRules = nil
			continue
		}
		objs = append(objs, role(ns, NamespacedRules())...)
	}
	if claimRules != nil {
		objs = append(objs, role(hubv1alpha1.ClaimNamespace, claimRules)...)
	}
	return objs
}

const rbacVersion = "rbac.authorization.k8s.io/v1"

func typeMeta(kind, version string) metav1.TypeMeta {
	return metav1.TypeMeta{Kind: kind, APIVersion: version}
}

// Kubeconfig returns a kubeconfig for server with the member's CA embedded
// and a bearer token.
func Kubeconfig(name, server string, caData []byte, token string) ([]byte, error) {
	return kubeconfig(name, clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caData}, token)
}

// kubeconfig returns a kubeconfig of cluster with a bearer token.
func kubeconfig(name string, cluster clientcmdapi.Cluster, token string) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &cluster
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	cfg.CurrentContext = name
	return clientcmd.Write(*cfg)
}

// Secret is the hub Secret registering the member; with Namespaces, its
// hubv1alpha1.NamespacesAnnotation lists them for the hub.
func Secret(o Options, kubeconfig []byte) *corev1.Secret {
	o = o.WithDefaults()
	annotations := map[string]string{RulesRevisionAnnotation: RulesRevision()}
	if ns := o.namespaces(); len(ns) > 0 {
		annotations[hubv1alpha1.NamespacesAnnotation] = strings.Join(ns, ",")
	}
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{Kind: "Secret", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{
			Name: o.Name, Namespace: o.HubNamespace,
			Labels:      map[string]string{hubv1alpha1.MemberSecretLabel: "true", "app.kubernetes.io/managed-by": FieldManager},
			Annotations: annotations,
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{hubv1alpha1.MemberSecretKey: kubeconfig},
	}
}

// Registrar performs registrations.
type Registrar struct {
	// Member is an admin client config of the member.
	Member *rest.Config
	// MemberClient is a client of the member with client-go's scheme.
	MemberClient client.Client
	// Hub is a client of the hub cluster.
	Hub client.Client
}

// Add registers the member. It is idempotent: a second run re-applies the
// member objects (upgrading the RBAC of a member registered by an older
// version in place), issues a fresh token and updates the Secret. All
// member work happens before the one hub write, so a failure leaves the hub
// untouched.
func (r *Registrar) Add(ctx context.Context, o Options) (*corev1.Secret, error) {
	o = o.WithDefaults()
	var hubNS corev1.Namespace
	if err := r.Hub.Get(ctx, client.ObjectKey{Name: o.HubNamespace}, &hubNS); err != nil {
		return nil, fmt.Errorf("hub namespace %q: %w", o.HubNamespace, err)
	}
	if err := checkSecretName(ctx, r.Hub, o); err != nil {
		return nil, err
	}
	kubeconfig, err := r.Identity(ctx, o)
	if err != nil {
		return nil, err
	}
	secret := Secret(o, kubeconfig)
	//lint:ignore SA1019 server-side apply of a typed object; client.Client.Apply wants apply configurations
	if err := r.Hub.Patch(ctx, secret, client.Apply, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return nil, fmt.Errorf("hub: write Secret %s/%s: %w", o.HubNamespace, o.Name, err)
	}
	return secret, nil
}

// checkSecretName refuses a registration whose hub Secret name is taken by
// a Secret that is not a registration: applying over it would merge the
// kubeconfig into someone else's Secret, and `cluster remove` would then
// delete all of it.
func checkSecretName(ctx context.Context, hub client.Client, o Options) error {
	var existing corev1.Secret
	err := hub.Get(ctx, client.ObjectKey{Namespace: o.HubNamespace, Name: o.Name}, &existing)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("hub: read Secret %s/%s: %w", o.HubNamespace, o.Name, err)
	case existing.Labels[hubv1alpha1.MemberSecretLabel] != "true":
		return fmt.Errorf("hub: Secret %s/%s exists and is not a member registration (no %s=true label); choose another name with --name",
			o.HubNamespace, o.Name, hubv1alpha1.MemberSecretLabel)
	}
	return nil
}

// Identity does the member's part of Add: it applies the hub's
// ServiceAccount and RBAC in the member and returns a kubeconfig with a
// fresh token for it. Add writes that kubeconfig into the hub; tests that
// run a hub in-process use it directly, so that they talk to members with
// exactly the identity production has.
func (r *Registrar) Identity(ctx context.Context, o Options) ([]byte, error) {
	o = o.WithDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	ca, err := caData(r.Member)
	if err != nil {
		return nil, err
	}
	if r.Member.Insecure && len(ca) == 0 {
		return nil, errors.New("the member context skips TLS verification (insecure-skip-tls-verify) and has no CA: " +
			"the hub could not verify the member's apiserver, and refuses such kubeconfigs unless run with --allow-insecure-member-kubeconfigs; " +
			"give the context the member's CA (certificate-authority-data)")
	}
	cs, err := kubernetes.NewForConfig(r.Member)
	if err != nil {
		return nil, err
	}
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		return nil, fmt.Errorf("member is unreachable: %w", err)
	}
	for _, obj := range MemberObjects(o) {
		//lint:ignore SA1019 server-side apply of typed objects; client.Client.Apply wants apply configurations
		if err := r.MemberClient.Patch(ctx, obj, client.Apply, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return nil, fmt.Errorf("member: apply %s %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
		}
	}
	if _, err := deleteRoles(ctx, r.MemberClient, o, append(o.namespaces(), hubv1alpha1.ClaimNamespace)); err != nil {
		return nil, err
	}
	ttl := int64(o.TokenTTL.Seconds())
	tr, err := cs.CoreV1().ServiceAccounts(o.MemberNamespace).CreateToken(ctx, o.ServiceAccount,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &ttl}}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("member: request a token for %s/%s: %w", o.MemberNamespace, o.ServiceAccount, err)
	}
	// The member's name in its certificate, when the context sets one.
	cluster := clientcmdapi.Cluster{Server: r.Member.Host, CertificateAuthorityData: ca, TLSServerName: r.Member.ServerName}
	return kubeconfig(o.Name, cluster, tr.Status.Token)
}

// Remove deletes the member's Secret from the hub; the hub then
// disengages the member and deletes its MemberCluster. It reports whether
// the Secret existed.
func Remove(ctx context.Context, hub client.Client, hubNamespace, name string) (bool, error) {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: hubNamespace}}
	var existing corev1.Secret
	if err := hub.Get(ctx, client.ObjectKeyFromObject(s), &existing); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return false, nil
		}
		return false, err
	}
	if existing.Labels[hubv1alpha1.MemberSecretLabel] != "true" {
		return false, fmt.Errorf("secret %s/%s is not a member registration (no %s=true label)", hubNamespace, name, hubv1alpha1.MemberSecretLabel)
	}
	if err := hub.Delete(ctx, &existing); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	return true, nil
}

// RevokeMember deletes from the member what `cluster add` created for the
// hub's identity: the Roles and RoleBindings of every namespace, the
// ClusterRoleBinding, the ClusterRole and the ServiceAccount (which
// invalidates every token issued for it); and then the member's claim
// Lease if registration o (its HubNamespace and Name) holds it. The
// namespace stays: it may hold other things. Objects already gone are not an error; it returns the
// kinds and names it deleted.
func RevokeMember(ctx context.Context, member client.Client, o Options) ([]string, error) {
	o = o.WithDefaults()
	o.Namespaces = nil
	deleted, err := deleteRoles(ctx, member, o, nil)
	if err != nil {
		return deleted, err
	}
	objs := MemberObjects(o)[1:]          // not the namespace
	for i := len(objs) - 1; i >= 0; i-- { // binding first: no moment with access and no role
		obj := objs[i]
		kind := obj.GetObjectKind().GroupVersionKind().Kind
		err := member.Delete(ctx, obj)
		switch {
		case err == nil:
			deleted = append(deleted, kind+" "+obj.GetName())
		case client.IgnoreNotFound(err) != nil:
			return deleted, fmt.Errorf("member: delete %s %s: %w", kind, obj.GetName(), err)
		}
	}
	released, err := releaseClaim(ctx, member, o)
	if released {
		deleted = append(deleted, "Lease "+hubv1alpha1.ClaimNamespace+"/"+hubv1alpha1.ClaimLeaseName)
	}
	return deleted, err
}

// releaseClaim deletes the member's claim Lease when the registration o
// (<hub namespace>/<name>) holds it. The hub releases it itself when the
// registration goes, but with the member identity RevokeMember has just
// revoked: a claim left behind would make a new registration of the
// member a Duplicate until it lapses. A claim another registration holds
// is left alone, as is one that changed since it was read.
func releaseClaim(ctx context.Context, member client.Client, o Options) (bool, error) {
	var lease coordinationv1.Lease
	key := client.ObjectKey{Namespace: hubv1alpha1.ClaimNamespace, Name: hubv1alpha1.ClaimLeaseName}
	if err := member.Get(ctx, key, &lease); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("member: read the claim %s: %w", key, err)
	}
	if lease.Annotations[hubv1alpha1.ClaimRegistrationAnnotation] != o.HubNamespace+"/"+o.Name {
		return false, nil
	}
	err := member.Delete(ctx, &lease, client.Preconditions{ResourceVersion: &lease.ResourceVersion})
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
		return false, nil
	}
	return false, fmt.Errorf("member: delete the claim %s: %w", key, err)
}

func caData(cfg *rest.Config) ([]byte, error) {
	if len(cfg.CAData) > 0 {
		return cfg.CAData, nil
	}
	if cfg.CAFile != "" {
		data, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("member CA: %w", err)
		}
		return data, nil
	}
	return nil, nil
}

// Adopt marks the registration Secret of member name so that the hub takes
// over the member's FlinkDeployments whose status another operator wrote
// before at (hubv1alpha1.AdoptBeforeAnnotation). found is false, and
// nothing is written, when no member of that name is registered.
func Adopt(ctx context.Context, hub client.Client, hubNamespace, name string, at time.Time) (found bool, err error) {
	secret := &corev1.Secret{}
	if err := hub.Get(ctx, client.ObjectKey{Namespace: hubNamespace, Name: name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	if secret.Labels[hubv1alpha1.MemberSecretLabel] != "true" {
		return false, nil
	}
	// Managed fields record times to the second, and a write in the very
	// second of the hand-over would count as after it: the hand-over time
	// is rounded up to the next whole second.
	if at.Nanosecond() != 0 {
		at = at.Truncate(time.Second).Add(time.Second)
	}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, hubv1alpha1.AdoptBeforeAnnotation, at.UTC().Format(time.RFC3339))
	if err := hub.Patch(ctx, secret, client.RawPatch(types.MergePatchType, []byte(patch)), client.FieldOwner(FieldManager)); err != nil {
		return true, fmt.Errorf("mark member %q for adoption: %w", name, err)
	}
	return true, nil
}
