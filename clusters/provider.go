package clusters

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"

	"github.com/flink-hub/flink-hub/clusters/memberconfig"
)

// Provider engages a member cluster for every registration Secret of the
// hub namespace (label memberconfig.SecretLabel, kubeconfig under
// memberconfig.SecretKey), named after the Secret. It is
// multicluster-runtime's kubeconfig provider with one addition: the
// member's cache is confined to the namespaces of the Secret's
// memberconfig.NamespacesAnnotation (cache.Options.DefaultNamespaces), as
// upstream Flink operators' watchNamespaces, whereas the upstream provider
// gives every member the same cluster options. A member is engaged again
// when its kubeconfig or its namespaces change.
type Provider struct {
	opts ProviderOptions
	log  logr.Logger
	mgr  mcmanager.Manager

	mu       sync.RWMutex
	clusters map[multicluster.ClusterName]*member
	indexers []indexer
}

// ProviderOptions configure a Provider.
type ProviderOptions struct {
	// Namespace is the hub namespace holding member Secrets.
	Namespace string
	// RESTOptions change or refuse (by an error) a member's client config.
	RESTOptions []func(*rest.Config) error
	// ClusterOptions apply to every member's cluster, before the
	// namespaces of its Secret.
	ClusterOptions []cluster.Option
}

var _ multicluster.Provider = &Provider{}

type member struct {
	cluster cluster.Cluster
	cancel  context.CancelFunc
	// hash identifies the kubeconfig and namespaces it was engaged with.
	hash string
}

type indexer struct {
	obj     client.Object
	field   string
	extract client.IndexerFunc
}

// NewMemberProvider returns a Provider; call SetupWithManager.
func NewMemberProvider(opts ProviderOptions) *Provider {
	return &Provider{opts: opts, log: log.Log.WithName("member-provider"), clusters: map[multicluster.ClusterName]*member{}}
}

// SetupWithManager watches the member Secrets with mgr's local manager and
// engages members into mgr.
func (p *Provider) SetupWithManager(mgr mcmanager.Manager) error {
	p.mgr = mgr
	return ctrl.NewControllerManagedBy(mgr.GetLocalManager()).
		For(&corev1.Secret{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(obj client.Object) bool {
			return obj.GetNamespace() == p.opts.Namespace && obj.GetLabels()[memberconfig.SecretLabel] == "true"
		}))).
		Named("member-provider").
		Complete(p)
}

// Get returns an engaged member, or multicluster.ErrClusterNotFound.
func (p *Provider) Get(_ context.Context, name multicluster.ClusterName) (cluster.Cluster, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if m, ok := p.clusters[name]; ok {
		return m.cluster, nil
	}
	return nil, multicluster.ErrClusterNotFound
}

// IndexField indexes a field on every member, engaged now or later.
func (p *Provider) IndexField(ctx context.Context, obj client.Object, field string, extract client.IndexerFunc) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.indexers = append(p.indexers, indexer{obj, field, extract})
	for name, m := range p.clusters {
		if err := m.cluster.GetFieldIndexer().IndexField(ctx, obj, field, extract); err != nil {
			return fmt.Errorf("index field %q of member %q: %w", field, name, err)
		}
	}
	return nil
}

// Reconcile engages, re-engages or disengages the member of one Secret. A
// Secret whose kubeconfig or namespaces cannot be used leaves its member
// disengaged (the MemberCluster controller reports why).
func (p *Provider) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	name := multicluster.ClusterName(req.Name)
	logger := p.log.WithValues("cluster", name)
	var secret corev1.Secret
	if err := p.mgr.GetLocalManager().GetClient().Get(ctx, req.NamespacedName, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			p.remove(name)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if secret.DeletionTimestamp != nil {
		p.remove(name)
		return ctrl.Result{}, nil
	}
	namespaces, err := memberconfig.Namespaces(&secret)
	if err != nil {
		logger.Error(err, "member Secret refused: its namespaces are invalid")
		p.remove(name)
		return ctrl.Result{}, nil
	}
	kubeconfig := secret.Data[memberconfig.SecretKey]
	sum := sha256.Sum256(append(append([]byte{}, kubeconfig...), "\x00"+strings.Join(namespaces, ",")...))
	hash := hex.EncodeToString(sum[:])
	p.mu.RLock()
	old, engaged := p.clusters[name]
	p.mu.RUnlock()
	if engaged && old.hash == hash {
		return ctrl.Result{}, nil
	}
	p.remove(name) // a changed registration is engaged anew
	cfg, err := memberconfig.Parse(kubeconfig)
	if err != nil {
		logger.Error(err, "member Secret refused")
		return ctrl.Result{}, nil
	}
	for _, opt := range p.opts.RESTOptions {
		if err := opt(cfg); err != nil {
			logger.Error(err, "member Secret refused")
			return ctrl.Result{}, nil
		}
	}
	return ctrl.Result{}, p.engage(ctx, name, cfg, namespaces, hash)
}

// engage starts the member's cluster, waits for its cache and engages it.
func (p *Provider) engage(ctx context.Context, name multicluster.ClusterName, cfg *rest.Config, namespaces []string, hash string) error {
	opts := append(slices.Clone(p.opts.ClusterOptions), WatchNamespaces(namespaces))
	cl, err := cluster.New(cfg, opts...)
	if err != nil {
		return fmt.Errorf("member %q: %w", name, err)
	}
	p.mu.RLock()
	indexers := p.indexers
	p.mu.RUnlock()
	for _, idx := range indexers {
		if err := cl.GetFieldIndexer().IndexField(ctx, idx.obj, idx.field, idx.extract); err != nil {
			return fmt.Errorf("index field %q of member %q: %w", idx.field, name, err)
		}
	}
	// The member runs until removed or until the manager stops (ctx is the
	// controller's, not bounded per reconcile).
	memberCtx, cancel := context.WithCancel(ctx)
	go func() {
		if err := cl.Start(memberCtx); err != nil {
			p.log.Error(err, "member cluster stopped", "cluster", name)
		}
	}()
	if !cl.GetCache().WaitForCacheSync(memberCtx) {
		cancel()
		return fmt.Errorf("member %q: cache did not sync", name)
	}
	p.mu.Lock()
	p.clusters[name] = &member{cluster: cl, cancel: cancel, hash: hash}
	p.mu.Unlock()
	if err := p.mgr.Engage(memberCtx, name, cl); err != nil {
		p.remove(name)
		return fmt.Errorf("engage member %q: %w", name, err)
	}
	p.log.Info("member engaged", "cluster", name, "namespaces", namespaces)
	return nil
}

// remove disengages a member: cancelling its context stops its cluster and
// every controller's watches of it.
func (p *Provider) remove(name multicluster.ClusterName) {
	p.mu.Lock()
	m, ok := p.clusters[name]
	delete(p.clusters, name)
	p.mu.Unlock()
	if ok {
		m.cancel()
		p.log.Info("member disengaged", "cluster", name)
	}
}

// WatchNamespaces confines a member's cache to namespaces (every namespace
// when empty): its informers list and watch in each of them, never across
// the cluster. Cluster-scoped objects are not affected.
func WatchNamespaces(namespaces []string) cluster.Option {
	return func(o *cluster.Options) {
		if len(namespaces) == 0 {
			return
		}
		o.Cache.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range namespaces {
			o.Cache.DefaultNamespaces[ns] = cache.Config{}
		}
	}
}
