package clusters

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"

	"github.com/flink-hub/flink-hub/internal/clusters/claim"
	"github.com/flink-hub/flink-hub/internal/clusters/kindaccess"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
	"github.com/flink-hub/flink-hub/internal/memberevents"
)

// Provider engages a member cluster for every registration Secret of the
// hub namespace (label memberconfig.SecretLabel, kubeconfig under
// memberconfig.SecretKey), named after the Secret. It is
// multicluster-runtime's kubeconfig provider with one addition: the
// member's cache is confined to the namespaces of the Secret's
// memberconfig.NamespacesAnnotation (cache.Options.DefaultNamespaces), as
// upstream Flink operators' watchNamespaces, whereas the upstream provider
// gives every member the same cluster options. A member is engaged again
// when its kubeconfig or its namespaces change. With Claims, a member is
// engaged only while its registration holds the member's claim.
type Provider struct {
	opts ProviderOptions
	log  logr.Logger
	mgr  mcmanager.Manager
	// reevaluate feeds member Secrets back to Reconcile (Reevaluate).
	reevaluate chan event.GenericEvent

	mu       sync.RWMutex
	clusters map[multicluster.ClusterName]*member
	indexers []indexer
	// claimants hold, per member, the client and registration its claim
	// was last checked with: a removed Secret's claim is released with
	// them.
	claimants map[multicluster.ClusterName]claimant
	// engagements hold each registered member's last engagement outcome.
	engagements map[multicluster.ClusterName]engagement
	// adoptions hold each member's adoption time (memberconfig.AdoptBefore).
	adoptions map[multicluster.ClusterName]time.Time
}

type claimant struct {
	hash   string
	leases coordinationclient.LeasesGetter
	reg    claim.Registration
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
	// Claims, when set, makes one registration per member cluster manage
	// it: a member is engaged only while its registration holds the claim.
	Claims *claim.Claims
	// OnDisengage, when set, is called with a member's name after it was
	// disengaged, to drop what was kept for it (connections, caches).
	OnDisengage func(member string)
	// OnEngage, when set, is called with a member's name after it was
	// engaged (its caches filled, the controllers watching it).
	OnEngage func(member string)
	// SyncKinds are the kinds the hub's controllers watch in every member:
	// an engagement lists them first, outside the locks every engagement
	// shares, so that a member that stops answering fails its own
	// engagement instead of holding the others'.
	SyncKinds []client.Object
	// OnAdopt, when set, is called with a member's name when its adoption
	// time (memberconfig.AdoptBefore) changed, to reconcile what it hands
	// over at once.
	OnAdopt func(member string)
	// SyncTimeout bounds each wait for a member's caches while it is
	// engaged (DefaultSyncTimeout when zero); the engagement fails after
	// it and is tried again.
	SyncTimeout time.Duration
	// OptionalKinds are the kinds a member may not serve or may not let the
	// hub read (kindaccess): its cache starts no informer of one before the
	// member said the hub may list it in every watched namespace, and
	// refuses its reads meanwhile with a kindaccess.Unreadable. A kind of
	// SyncKinds is not optional.
	OptionalKinds []client.Object
	// KindRecheck is how often a member is asked again about an optional
	// kind the hub may not read (kindaccess.DefaultRecheck when zero).
	KindRecheck time.Duration
	// Serves, when set, says whether this replica connects to a member (a
	// member spread gives each replica some members): a member it does not
	// serve is not engaged, or disengaged, which stops its watches and
	// drops its caches, and its claim is left to the replicas that serve
	// it. Reevaluate asks again for every member.
	Serves func(member string) bool
}

func (o ProviderOptions) syncTimeout() time.Duration {
	if o.SyncTimeout > 0 {
		return o.SyncTimeout
	}
	return DefaultSyncTimeout
}

// optionalKinds are OptionalKinds without the SyncKinds' types.
func (o ProviderOptions) optionalKinds() []client.Object {
	var out []client.Object
	for _, obj := range o.OptionalKinds {
		if !slices.ContainsFunc(o.SyncKinds, func(s client.Object) bool { return reflect.TypeOf(s) == reflect.TypeOf(obj) }) {
			out = append(out, obj)
		}
	}
	return out
}

var _ multicluster.Provider = &Provider{}

type member struct {
	cluster cluster.Cluster
	cancel  context.CancelFunc
	// hash identifies the kubeconfig and namespaces it was engaged with.
	hash string
	// kinds says whether the hub may read each optional kind.
	kinds *kindaccess.Gate
}

type indexer struct {
	obj     client.Object
	field   string
	extract client.IndexerFunc
}

// NewMemberProvider returns a Provider; call SetupWithManager.
func NewMemberProvider(opts ProviderOptions) *Provider {
	return &Provider{opts: opts, log: log.Log.WithName("member-provider"), reevaluate: make(chan event.GenericEvent, 64), clusters: map[multicluster.ClusterName]*member{}, claimants: map[multicluster.ClusterName]claimant{}, engagements: map[multicluster.ClusterName]engagement{},
		adoptions: map[multicluster.ClusterName]time.Time{}}
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
		WatchesRawSource(source.Channel(p.reevaluate, &handler.EnqueueRequestForObject{})).
		// A member that does not answer holds its reconcile until the
		// claim's or the sync timeout; the others go on. A failed
		// engagement is tried again at least every engageRetryMax.
		WithOptions(controller.Options{MaxConcurrentReconciles: 4,
			RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](time.Second, engageRetryMax)}).
		Complete(p)
}

// Reevaluate reconciles every member Secret again, so that a replica
// engages the members it now serves (ProviderOptions.Serves) and lets go
// of the others. It returns once they are queued or ctx ends.
func (p *Provider) Reevaluate(ctx context.Context) error {
	secrets, err := p.memberSecrets(ctx)
	if err != nil {
		return err
	}
	for i := range secrets {
		select {
		case p.reevaluate <- event.GenericEvent{Object: &secrets[i]}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// MemberNames lists the registered members (the member Secrets the hub's
// cache holds), served or not.
func (p *Provider) MemberNames(ctx context.Context) ([]string, error) {
	secrets, err := p.memberSecrets(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(secrets))
	for _, s := range secrets {
		names = append(names, s.Name)
	}
	return names, nil
}

// memberSecrets lists the member Secrets of the hub's cache.
func (p *Provider) memberSecrets(ctx context.Context) ([]corev1.Secret, error) {
	return memberconfig.ListSecrets(ctx, p.mgr.GetLocalManager().GetClient(), p.opts.Namespace)
}

// engageRetryMax caps the wait between attempts to engage a member.
const engageRetryMax = time.Minute

// Engaged reports the outcome of the member's last engagement: whether
// the hub's controllers watch it, and if not why; known is false when no
// engagement was tried since it was registered or last disengaged.
func (p *Provider) Engaged(member string) (engaged bool, message string, known bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	e, known := p.engagements[multicluster.ClusterName(member)]
	return e.engaged, e.message, known
}

func (p *Provider) setEngagement(name multicluster.ClusterName, e engagement) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.engagements[name] = e
}

// AdoptBefore is the member's adoption time: the hub takes over its
// FlinkDeployments whose status another operator wrote before it. Zero
// when the member was not handed over.
func (p *Provider) AdoptBefore(member string) time.Time {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.adoptions[multicluster.ClusterName(member)]
}

// recordAdoption keeps the member's adoption time, telling OnAdopt when it
// changed.
func (p *Provider) recordAdoption(name multicluster.ClusterName, at time.Time) {
	p.mu.Lock()
	changed := !p.adoptions[name].Equal(at)
	p.adoptions[name] = at
	p.mu.Unlock()
	if changed && !at.IsZero() && p.opts.OnAdopt != nil {
		p.log.Info("member handed over for adoption", "cluster", name, "before", at)
		p.opts.OnAdopt(string(name))
	}
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

// Kinds says whether the hub may read each optional kind
// (ProviderOptions.OptionalKinds) in member, and each other kind of the
// member's cache whose informer the member refused since it was engaged
// (rules narrowed meanwhile), asking the member where its last answer is
// older than the recheck interval or an informer was refused since
// (kindaccess.Gate.CheckAll); engaged is false when this replica has not
// engaged the member.
func (p *Provider) Kinds(ctx context.Context, member string) (kinds []kindaccess.Status, engaged bool, err error) {
	p.mu.RLock()
	m, engaged := p.clusters[multicluster.ClusterName(member)]
	p.mu.RUnlock()
	if !engaged {
		return nil, false, nil
	}
	kinds, err = m.kinds.CheckAll(ctx)
	return kinds, true, err
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
			p.release(ctx, name)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if secret.DeletionTimestamp != nil {
		p.remove(name)
		p.release(ctx, name)
		return ctrl.Result{}, nil
	}
	p.recordAdoption(name, memberconfig.AdoptBefore(&secret))
	if p.opts.Serves != nil && !p.opts.Serves(string(name)) {
		// Another replica serves the member: no connection, no cache, and
		// the claim stays with the registration's serving replicas.
		p.mu.RLock()
		_, engaged := p.clusters[name]
		p.mu.RUnlock()
		if engaged {
			logger.Info("member left to the replicas that serve its shards")
		}
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
	if engaged && old.hash == hash && p.opts.Claims == nil {
		return ctrl.Result{}, nil
	}
	cfg, err := memberconfig.Parse(kubeconfig)
	if err != nil {
		logger.Error(err, "member Secret refused")
		p.remove(name)
		return ctrl.Result{}, nil
	}
	for _, opt := range p.opts.RESTOptions {
		if err := opt(cfg); err != nil {
			logger.Error(err, "member Secret refused")
			p.remove(name)
			return ctrl.Result{}, nil
		}
	}
	var result ctrl.Result
	if p.opts.Claims != nil {
		out, err := p.claim(ctx, name, &secret, cfg, hash)
		if err != nil {
			return ctrl.Result{}, err
		}
		result.RequeueAfter = p.opts.Claims.RenewInterval()
		if !out.Engage {
			if engaged {
				logger.Info("member disengaged: its registration does not hold the member's claim", "reason", out.Reason, "message", out.Message)
			}
			p.remove(name)
			return result, nil
		}
	}
	if engaged && old.hash == hash {
		return result, nil
	}
	p.remove(name) // a changed registration is engaged anew
	return result, p.engage(ctx, name, cfg, namespaces, hash)
}

// claimTimeout bounds one check of a claim: a member that does not answer
// must not hold the provider, which reconciles one Secret at a time.
const claimTimeout = 10 * time.Second

// claim checks and renews the member's claim for the Secret's
// registration.
func (p *Provider) claim(ctx context.Context, name multicluster.ClusterName, secret *corev1.Secret, cfg *rest.Config, hash string) (claim.Outcome, error) {
	p.mu.RLock()
	c, ok := p.claimants[name]
	p.mu.RUnlock()
	if !ok || c.hash != hash || c.reg.UID != secret.UID {
		leases, err := coordinationclient.NewForConfig(cfg)
		if err != nil {
			return claim.Outcome{}, fmt.Errorf("member %q: %w", name, err)
		}
		c = claimant{hash: hash, leases: leases, reg: claim.Registration{UID: secret.UID, Name: secret.Namespace + "/" + secret.Name}}
		p.mu.Lock()
		p.claimants[name] = c
		p.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(ctx, claimTimeout)
	defer cancel()
	return p.opts.Claims.Claim(ctx, string(name), c.leases, c.reg), nil
}

// release gives up the claim of a removed registration and forgets its
// adoption time (the Secret is gone; a new one brings its own).
func (p *Provider) release(ctx context.Context, name multicluster.ClusterName) {
	p.mu.Lock()
	c, ok := p.claimants[name]
	delete(p.claimants, name)
	delete(p.adoptions, name)
	p.mu.Unlock()
	if !ok || p.opts.Claims == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, claimTimeout)
	defer cancel()
	if err := p.opts.Claims.Release(ctx, string(name), c.leases, c.reg); err != nil {
		p.log.Info("cannot release the claim of a removed registration; it lapses unrenewed", "cluster", name, "error", err.Error())
	}
}

// engage starts the member's cluster, lists the SyncKinds and engages it.
// Every wait is bounded by the sync timeout: a member that stops answering
// fails its engagement (reported by Engagement) and is tried again.
func (p *Provider) engage(ctx context.Context, name multicluster.ClusterName, cfg *rest.Config, namespaces []string, hash string) (err error) {
	defer func() {
		e := engagement{engaged: err == nil}
		if err != nil {
			e.message = err.Error()
		}
		p.setEngagement(name, e)
		if err == nil && p.opts.OnEngage != nil {
			p.opts.OnEngage(string(name))
		}
	}()
	kinds := kindaccess.New(string(name), p.opts.optionalKinds(), p.opts.KindRecheck)
	opts := append(slices.Clone(p.opts.ClusterOptions), WatchNamespaces(namespaces), func(o *cluster.Options) { o.NewCache = kinds.NewCache(o.NewCache) })
	cl, err := cluster.New(cfg, opts...)
	if err != nil {
		return fmt.Errorf("member %q: %w", name, err)
	}
	// The member runs until removed or until the manager stops (ctx is the
	// controller's, not bounded per reconcile).
	memberCtx, cancel := context.WithCancel(ctx)
	if cl, err = memberevents.Start(memberCtx, cl); err != nil {
		cancel()
		return fmt.Errorf("events of member %q: %w", name, err)
	}
	p.mu.RLock()
	indexers := p.indexers
	p.mu.RUnlock()
	for _, idx := range indexers {
		if err := cl.GetFieldIndexer().IndexField(ctx, idx.obj, idx.field, idx.extract); err != nil {
			cancel()
			return fmt.Errorf("index field %q of member %q: %w", idx.field, name, err)
		}
	}
	go func() {
		if err := cl.Start(memberCtx); err != nil {
			p.log.Error(err, "member cluster stopped", "cluster", name)
		}
	}()
	timeout := p.opts.syncTimeout()
	if err := syncKinds(memberCtx, cl, p.opts.SyncKinds, timeout); err != nil {
		cancel()
		return fmt.Errorf("member %q: %w", name, err)
	}
	p.mu.Lock()
	p.clusters[name] = &member{cluster: cl, cancel: cancel, hash: hash, kinds: kinds}
	p.mu.Unlock()
	bounded := newBoundedCluster(cl, p.opts.SyncKinds, timeout)
	err = p.mgr.Engage(memberCtx, name, bounded)
	if berr := bounded.err(); berr != nil {
		err = berr // why the engagement could not go on
	}
	if err != nil {
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
	delete(p.engagements, name)
	p.mu.Unlock()
	if ok {
		m.cancel()
		p.log.Info("member disengaged", "cluster", name)
		if p.opts.OnDisengage != nil {
			p.opts.OnDisengage(string(name))
		}
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
