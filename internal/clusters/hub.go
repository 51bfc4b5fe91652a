package clusters

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/internal/clusters/claim"
	"github.com/flink-hub/flink-hub/internal/clusters/crdinstall"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
	"github.com/flink-hub/flink-hub/internal/clusters/health"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
	"github.com/flink-hub/flink-hub/internal/clusters/memberstatus"
	"github.com/flink-hub/flink-hub/internal/console"
	"github.com/flink-hub/flink-hub/internal/defaults"
	"github.com/flink-hub/flink-hub/internal/observability"
	"github.com/flink-hub/flink-hub/internal/observability/jaegerquery"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
)

// Options configures the member cluster machinery.
type Options struct {
	// Namespace is the hub namespace holding member Secrets.
	Namespace string
	// MemberQPS and MemberBurst rate-limit each member: every request a
	// replica sends to it, whatever the resource type, takes from one
	// token bucket (client-go's defaults of 5/10 starve a fleet).
	MemberQPS   float32
	MemberBurst int
	// MemberRequestTimeout bounds each request to a member (a watch only
	// until it starts), so that a member whose apiserver blackholes
	// traffic fails its callers instead of holding them; zero disables it.
	MemberRequestTimeout time.Duration
	// MemberSyncTimeout bounds each wait for a member's caches while it is
	// engaged (ProviderOptions.SyncTimeout).
	MemberSyncTimeout time.Duration
	// MemberWatchedKinds are the kinds the hub's controllers watch in every
	// member (ProviderOptions.SyncKinds).
	MemberWatchedKinds []client.Object
	// ProbeInterval is the time between health probes of one member.
	ProbeInterval time.Duration
	// StatusReportInterval is how long a member's MemberCluster status
	// goes unwritten while its probes find nothing new: a probe that
	// changes nothing but status.lastProbeTime is written only once that
	// is this old.
	StatusReportInterval time.Duration
	// ProbeTimeout bounds one probe.
	ProbeTimeout time.Duration
	// Debounce is how long a new health state must last before Ready
	// changes.
	Debounce time.Duration
	// InstallCRDs installs or upgrades the FlinkDeployment CRD in members.
	InstallCRDs bool
	// CRDRetryInterval is the wait between failed CRD installs, between
	// attempts to watch FlinkDeployments in a member without the CRD, and
	// between checks of an optional kind the hub may not read in a member
	// (OptionalMemberKinds).
	CRDRetryInterval time.Duration
	// AllowInsecureKubeconfigs accepts member kubeconfigs that skip TLS
	// verification, speak plain HTTP or use a proxy; refused otherwise.
	AllowInsecureKubeconfigs bool
	// TokenWarning is how long before its expiry a member's token is
	// reported (TokenExpiring); a week when zero.
	TokenWarning time.Duration
	// FleetAddress is where the fleet API and the console listen; ""
	// disables both.
	FleetAddress string
	// FleetAdvertiseAddress is host:port at which peers reach this
	// replica's fleet API (FleetAdvertised fills it from POD_IP when
	// empty).
	FleetAdvertiseAddress string
	// FleetTokenReviewsPerSecond bounds the reviews of bearer tokens the
	// fleet API remembers nothing of (fleetapi.WithAuth);
	// fleetapi.DefaultTokenReviewsPerSecond when zero.
	FleetTokenReviewsPerSecond float64
	// TraceQueryURL is the Jaeger query API the console reads reconcile
	// traces from; "" leaves traces out of the console.
	TraceQueryURL string
	// TraceService is the service name of the hub's spans.
	TraceService string
	// StatusWorkers is the number of members probed at once.
	StatusWorkers int
	// Placer places indexed deployments on shards and replicas; optional.
	Placer fleetindex.Placer
	// MemberCacheByObject restricts member caches per kind, e.g. to the
	// objects the hub created (by label); optional.
	MemberCacheByObject map[client.Object]cache.ByObject
	// MemberCacheTransform is the member caches' default transform;
	// stripping managed fields when nil.
	MemberCacheTransform toolscache.TransformFunc
	// ClaimDuration is how long a member's claim lasts unrenewed
	// (claim.DefaultDuration when zero): a registration that stopped
	// renewing it is replaced by a duplicate one after that long.
	ClaimDuration time.Duration
	// OwnsMember, when set, says whether this replica writes the member's
	// MemberCluster status (memberstatus.Reconciler.Owns); nil: every
	// member's.
	OwnsMember func(member string) bool
	// OnMemberOwnershipGained, when set with OwnsMember, registers fn, to
	// be called (without blocking) whenever this replica may have begun
	// to own members (memberstatus.Reconciler.OnOwnershipGained): the
	// members it does not own are then looked at on events only.
	OnMemberOwnershipGained func(fn func())
	// ServesMember, when set, says whether this replica connects to a
	// member at all (ProviderOptions.Serves).
	ServesMember func(member string) bool
	// FleetPeers, when set, lists the other replicas' fleet APIs: with a
	// member spread the fleet API and the console ask them for the
	// members this replica does not serve.
	FleetPeers fleetapi.PeerSource
	// OnMemberDisengaged, when set, is called with a member's name after
	// it was disengaged (unregistered, its kubeconfig changed, its claim
	// lost), to drop what was kept for it, such as Flink REST transports.
	OnMemberDisengaged func(member string)
	// OnMemberEngaged, when set, is called with a member's name after it
	// was engaged (ProviderOptions.OnEngage).
	OnMemberEngaged func(member string)
	// OnDefaultsChanged, when set, hears the members whose default
	// configuration changed ("" meaning every member).
	OnDefaultsChanged func(members []string)
	// OnAdopt, when set, hears a member handed over for adoption
	// (ProviderOptions.OnAdopt).
	OnAdopt func(member string)
	// MemberUserAgent is the User-Agent of requests to members, which
	// their audit logs record; "flink-hub" when empty. The binary adds its
	// replica identity, so that a member's admin sees which replica wrote.
	MemberUserAgent string
}

// DefaultOptions returns the production defaults.
func DefaultOptions() Options {
	return Options{
		Namespace:   "flink-hub",
		MemberQPS:   200,
		MemberBurst: 400,
		// Far more than a healthy apiserver needs for one request of the
		// hub's, and well below the reconcile deadline.
		MemberRequestTimeout:       30 * time.Second,
		MemberSyncTimeout:          DefaultSyncTimeout,
		ProbeInterval:              10 * time.Second,
		ProbeTimeout:               5 * time.Second,
		StatusReportInterval:       time.Minute,
		Debounce:                   30 * time.Second,
		InstallCRDs:                true,
		CRDRetryInterval:           5 * time.Second,
		FleetTokenReviewsPerSecond: fleetapi.DefaultTokenReviewsPerSecond,
		FleetAddress:               ":8082",
		StatusWorkers:              8,
		ClaimDuration:              claim.DefaultDuration,
	}
}

func (o Options) policy() memberconfig.Policy {
	return memberconfig.Policy{AllowInsecure: o.AllowInsecureKubeconfigs}
}

// HubScheme knows the types the hub reads in its own cluster.
func HubScheme() *runtime.Scheme {
	return mustScheme(clientgoscheme.AddToScheme, hubv1alpha1.AddToScheme)
}

// MemberScheme knows the types the hub reads and writes in members.
func MemberScheme() *runtime.Scheme {
	return mustScheme(clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, flinkv1beta1.AddToScheme)
}

func mustScheme(adds ...func(*runtime.Scheme) error) *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range adds {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}

// Hub is the hub's multicluster manager with the member machinery wired in.
type Hub struct {
	// Manager is the multicluster manager; controllers of other packages
	// are added to it.
	Manager mcmanager.Manager
	// Provider engages and disengages members from their Secrets.
	Provider *Provider
	// Index is the fleet index.
	Index *fleetindex.Index
	// CRDs installs the FlinkDeployment CRD in members.
	CRDs *crdinstall.Installer
	// Fleet serves the fleet API; nil when disabled.
	Fleet *fleetapi.Server
	// Defaults are the fleet's and members' default configuration, read
	// from the hub namespace's default ConfigMaps (package defaults).
	Defaults *defaults.Store
}

// FleetAdvertised is where peers reach this replica's fleet API:
// FleetAdvertiseAddress, else the POD_IP environment variable (the chart
// sets it from the pod's IP) with the port of FleetAddress; "" when
// neither is known or the fleet API is off.
func (o Options) FleetAdvertised() string {
	if o.FleetAddress == "" {
		return ""
	}
	if o.FleetAdvertiseAddress != "" {
		return o.FleetAdvertiseAddress
	}
	ip := os.Getenv("POD_IP")
	_, port, err := net.SplitHostPort(o.FleetAddress)
	if ip == "" || err != nil || port == "0" {
		return ""
	}
	return net.JoinHostPort(ip, port)
}

// OptionalMemberKinds are the kinds a member may not serve, or may not let
// the hub read: a registration by an older `cluster add`, or a member
// without their CRDs (package kindaccess).
func OptionalMemberKinds() []client.Object {
	return []client.Object{&flinkv1beta1.FlinkSessionJob{}, &flinkv1beta1.FlinkStateSnapshot{}}
}

// NewProvider returns the member provider for the hub namespace: a Secret
// there labelled flink-hub.io/member-cluster=true with the key
// "kubeconfig" registers a member named after the Secret, watched in the
// namespaces of its flink-hub.io/namespaces annotation or in all.
// The provider claims each member for its registration (package claim).
func NewProvider(opts Options) *Provider {
	return NewMemberProvider(ProviderOptions{
		Namespace:   opts.Namespace,
		Claims:      claim.New(opts.ClaimDuration),
		OnDisengage: opts.OnMemberDisengaged,
		OnEngage:    opts.OnMemberEngaged,
		OnAdopt:     opts.OnAdopt,
		SyncKinds:   opts.MemberWatchedKinds,
		SyncTimeout: opts.MemberSyncTimeout,
		Serves:      opts.ServesMember,
		// The console and the fleet index read them; their controllers
		// watch them through optionalkind.
		OptionalKinds: OptionalMemberKinds(),
		KindRecheck:   opts.CRDRetryInterval,
		RESTOptions: []func(*rest.Config) error{func(cfg *rest.Config) error {
			if err := opts.policy().Check(cfg); err != nil {
				return err
			}
			memberconfig.RateLimit(cfg, opts.MemberQPS, opts.MemberBurst)
			memberconfig.RequestTimeout(cfg, opts.MemberRequestTimeout)
			cfg.UserAgent = opts.MemberUserAgent
			if cfg.UserAgent == "" {
				cfg.UserAgent = "flink-hub"
			}
			// API calls made inside a traced reconcile become child spans.
			cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return observability.WrapKubeTransport(rt, "") })
			return nil
		}},
		ClusterOptions: []cluster.Option{func(o *cluster.Options) {
			o.Scheme = MemberScheme()
			o.Cache.DefaultTransform = cache.TransformStripManagedFields()
			if opts.MemberCacheTransform != nil {
				o.Cache.DefaultTransform = opts.MemberCacheTransform
			}
			if len(opts.MemberCacheByObject) > 0 {
				o.Cache.ByObject = map[client.Object]cache.ByObject{}
				for obj, by := range opts.MemberCacheByObject {
					o.Cache.ByObject[obj] = by
				}
			}
		}},
	})
}

// The hub's permissions in its own cluster, generated into deploy/rbac by
// `make generate` (a Role of the hub namespace; installers rename the
// namespace). They are exactly the hub's calls: MemberClusters are created
// (owned by their Secret, without blockOwnerDeletion, which would need
// update on secrets/finalizers), read, deleted and status-patched, never
// updated.
//
// +kubebuilder:rbac:groups="",namespace=flink-hub,resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=hub.flink-hub.io,namespace=flink-hub,resources=memberclusters,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=hub.flink-hub.io,namespace=flink-hub,resources=memberclusters/status,verbs=patch
// +kubebuilder:rbac:groups="";events.k8s.io,namespace=flink-hub,resources=events,verbs=create;patch;update
// +kubebuilder:rbac:groups="",namespace=flink-hub,resources=configmaps,verbs=get;list;watch

// New builds the hub manager on hubCfg. mgrOpts are passed to
// controller-runtime; New sets its Scheme and confines its cache to the hub
// namespace. It sets no manager-wide reconcile timeout: that would cancel
// member contexts.
func New(hubCfg *rest.Config, opts Options, mgrOpts manager.Options) (*Hub, error) {
	if opts.Namespace == "" {
		return nil, fmt.Errorf("hub namespace is empty")
	}
	mgrOpts.Scheme = HubScheme()
	mgrOpts.Cache.DefaultNamespaces = map[string]cache.Config{opts.Namespace: {}}
	// Only member Secrets are cached. A Secret that loses the label thus
	// looks deleted, which is the only way to make the kubeconfig provider
	// disengage a member whose Secret still exists.
	if mgrOpts.Cache.ByObject == nil {
		mgrOpts.Cache.ByObject = map[client.Object]cache.ByObject{}
	}
	mgrOpts.Cache.ByObject[&corev1.Secret{}] = cache.ByObject{
		Label: labels.SelectorFromSet(labels.Set{memberconfig.SecretLabel: "true"}),
	}
	// Of the ConfigMaps, only the default configuration.
	mgrOpts.Cache.ByObject[&corev1.ConfigMap{}] = cache.ByObject{
		Label: labels.SelectorFromSet(labels.Set{defaults.Label: "true"}),
	}
	provider := NewProvider(opts)
	mgr, err := mcmanager.New(hubCfg, provider, mgrOpts)
	if err != nil {
		return nil, fmt.Errorf("hub manager: %w", err)
	}
	if err := provider.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("member provider: %w", err)
	}
	var indexOpts []fleetindex.Option
	if opts.Placer != nil {
		indexOpts = append(indexOpts, fleetindex.WithPlacer(opts.Placer))
	}
	h := &Hub{Manager: mgr, Provider: provider, Index: fleetindex.New(indexOpts...)}
	fleetindex.ServeMetrics(h.Index)
	if err := mgr.Add(fleetindex.NewFeeder(h.Index, opts.CRDRetryInterval)); err != nil {
		return nil, err
	}
	h.CRDs, err = crdinstall.New(opts.InstallCRDs, crdinstall.WithRetryInterval(opts.CRDRetryInterval))
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(h.CRDs); err != nil {
		return nil, err
	}
	status := &memberstatus.Reconciler{
		Client:            mgr.GetLocalManager().GetClient(),
		Namespace:         opts.Namespace,
		Prober:            health.HTTPProber{Timeout: opts.ProbeTimeout},
		Debouncer:         health.NewDebouncer(opts.Debounce),
		Interval:          opts.ProbeInterval,
		ReportEvery:       opts.StatusReportInterval,
		CRDs:              h.CRDs,
		Engagements:       provider,
		Kinds:             provider,
		Claims:            provider.opts.Claims,
		Owns:              opts.OwnsMember,
		OnOwnershipGained: opts.OnMemberOwnershipGained,
		Index:             h.Index,
		Recorder:          mgr.GetLocalManager().GetEventRecorder("flink-hub"),
		Policy:            opts.policy(),
		TokenWarning:      opts.TokenWarning,
	}
	if err := status.SetupWithManager(mgr.GetLocalManager(), max(1, opts.StatusWorkers)); err != nil {
		return nil, fmt.Errorf("MemberCluster status controller: %w", err)
	}
	h.Defaults = defaults.NewStore()
	defaultsReader := &defaults.Reconciler{Client: mgr.GetLocalManager().GetClient(), Namespace: opts.Namespace, Store: h.Defaults,
		Recorder: mgr.GetLocalManager().GetEventRecorder("flink-hub"), OnChange: opts.OnDefaultsChanged}
	if err := defaultsReader.SetupWithManager(mgr.GetLocalManager()); err != nil {
		return nil, fmt.Errorf("default configuration: %w", err)
	}
	if opts.FleetAddress != "" {
		if err := h.serveFleet(hubCfg, opts); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// serveFleet serves the fleet API and the console beside it on
// opts.FleetAddress.
func (h *Hub) serveFleet(hubCfg *rest.Config, opts Options) error {
	fleet := &fleetapi.Fleet{Index: h.Index, Peers: opts.FleetPeers}
	ui, err := newConsole(h, fleet, hubCfg, opts)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/fleet/", fleetapi.Handler(fleet, configs{provider: h.Provider, defaults: h.Defaults}))
	mux.Handle(console.Prefix, ui)
	if h.Fleet, err = fleetapi.NewServer(opts.FleetAddress, mux, hubCfg, opts.Namespace, opts.FleetTokenReviewsPerSecond); err != nil {
		return err
	}
	return h.Manager.GetLocalManager().Add(h.Fleet)
}

// newConsole builds the console on the hub's index, its members, its
// MemberClusters and shard Leases, and the trace backend of opts.
func newConsole(h *Hub, fleet *fleetapi.Fleet, hubCfg *rest.Config, opts Options) (http.Handler, error) {
	cs, err := kubernetes.NewForConfig(hubCfg)
	if err != nil {
		return nil, err
	}
	hubClient := h.Manager.GetLocalManager().GetClient()
	o := console.Options{
		Fleet:   fleet,
		Members: consoleMembers{provider: h.Provider},
		MemberClusters: func(ctx context.Context) ([]hubv1alpha1.MemberCluster, error) {
			var list hubv1alpha1.MemberClusterList
			err := hubClient.List(ctx, &list, client.InNamespace(opts.Namespace))
			return list.Items, err
		},
		Shards: func(ctx context.Context) (shardlease.Table, error) {
			return shardlease.ReadTable(ctx, cs, opts.Namespace)
		},
		Service: opts.TraceService,
	}
	if opts.TraceQueryURL != "" {
		o.Traces = &jaegerquery.Client{BaseURL: opts.TraceQueryURL}
	}
	return console.New(o)
}
