package kindaccess

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// NewCache wraps next (cache.New when nil), the member's cache
// constructor, so that the cache's reads and informers of the Gate's kinds
// pass Check first, and that every informer of the cache tells the Gate
// when the member refuses its list or watch (Refused). The Gate learns
// there the namespaces the cache watches each kind in and gets its own
// uncached reader of the member. IndexField is not gated: index no gated
// kind.
func (g *Gate) NewCache(next cache.NewCacheFunc) cache.NewCacheFunc {
	if next == nil {
		next = cache.New
	}
	return func(cfg *rest.Config, opts cache.Options) (cache.Cache, error) {
		g.reportRefusals(&opts)
		c, err := next(cfg, opts)
		if err != nil {
			return nil, err
		}
		reader, err := client.New(cfg, client.Options{HTTPClient: opts.HTTPClient, Scheme: opts.Scheme, Mapper: opts.Mapper})
		if err != nil {
			return nil, fmt.Errorf("reader of the optional kinds: %w", err)
		}
		kinds := map[schema.GroupVersionKind]*kindState{}
		for _, obj := range g.objects {
			gvk, err := apiutil.GVKForObject(obj, opts.Scheme)
			if err != nil {
				return nil, err
			}
			kinds[gvk] = &kindState{gvk: gvk, namespaces: watchedNamespaces(opts, gvk), optional: true, probing: make(chan struct{}, 1)}
		}
		g.mu.Lock()
		g.reader, g.kinds = reader, kinds
		g.namespacesOf = func(gvk schema.GroupVersionKind) []string { return watchedNamespaces(opts, gvk) }
		g.mu.Unlock()
		return &gatedCache{Cache: c, gate: g, scheme: opts.Scheme}, nil
	}
}

// reportRefusals makes every informer of the cache of opts report its
// list and watch errors to the Gate after the cache's own watch error
// handler (client-go's default when none) has seen them. The handler is
// set per informer, which knows its kind, in place of the cache's default.
func (g *Gate) reportRefusals(opts *cache.Options) {
	newInformer, onError := opts.NewInformer, opts.DefaultWatchErrorHandler
	if newInformer == nil {
		newInformer = toolscache.NewSharedIndexInformer
	}
	if onError == nil {
		onError = toolscache.DefaultWatchErrorHandler
	}
	scheme := opts.Scheme
	opts.DefaultWatchErrorHandler = nil // it would replace the one set below
	opts.NewInformer = func(lw toolscache.ListerWatcher, obj runtime.Object, resync time.Duration, indexers toolscache.Indexers) toolscache.SharedIndexInformer {
		informer := newInformer(lw, obj, resync, indexers)
		gvk, err := apiutil.GVKForObject(obj, scheme)
		if err != nil {
			return informer
		}
		// Not started yet, so this is not refused.
		_ = informer.SetWatchErrorHandlerWithContext(func(ctx context.Context, r *toolscache.Reflector, err error) {
			onError(ctx, r, err)
			g.Refused(gvk, err)
		})
		return informer
	}
}

// watchedNamespaces are the namespaces the cache of opts watches gvk in,
// sorted; nil for every namespace.
func watchedNamespaces(opts cache.Options, gvk schema.GroupVersionKind) []string {
	namespaces := opts.DefaultNamespaces
	for obj, by := range opts.ByObject {
		if got, err := apiutil.GVKForObject(obj, opts.Scheme); err == nil && got == gvk && by.Namespaces != nil {
			namespaces = by.Namespaces
		}
	}
	if _, all := namespaces[""]; all || len(namespaces) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(namespaces))
}

// gatedCache is a member's cache whose reads and informers of the gated
// kinds pass the Gate first.
type gatedCache struct {
	cache.Cache
	gate   *Gate
	scheme *runtime.Scheme
}

// admit checks obj's kind (a list's item kind when list). A read of one
// namespace (namespace not "") passes when the hub may list the kind
// there, though not in every namespace: the cache reads it from that
// namespace's informer alone.
func (c *gatedCache) admit(ctx context.Context, obj runtime.Object, list bool, namespace string) error {
	gvk, err := apiutil.GVKForObject(obj, c.scheme)
	if err != nil {
		return nil // the cache says why
	}
	if list {
		gvk.Kind = strings.TrimSuffix(gvk.Kind, "List")
	}
	err = c.gate.Check(ctx, gvk)
	var u *Unreadable
	if errors.As(err, &u) && u.Forbidden && namespace != "" && len(u.Namespaces) > 0 && !slices.Contains(u.Namespaces, namespace) {
		return nil
	}
	return err
}

// Get reads obj from the cache once its kind passed the Gate.
func (c *gatedCache) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if err := c.admit(ctx, obj, false, key.Namespace); err != nil {
		return err
	}
	return c.Cache.Get(ctx, key, obj, opts...)
}

// List reads list from the cache once its kind passed the Gate.
func (c *gatedCache) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if err := c.admit(ctx, list, true, (&client.ListOptions{}).ApplyOptions(opts).Namespace); err != nil {
		return err
	}
	return c.Cache.List(ctx, list, opts...)
}

// GetInformer returns obj's informer once its kind passed the Gate.
func (c *gatedCache) GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error) {
	if err := c.admit(ctx, obj, false, ""); err != nil {
		return nil, err
	}
	return c.Cache.GetInformer(ctx, obj, opts...)
}

// GetInformerForKind returns gvk's informer once it passed the Gate.
func (c *gatedCache) GetInformerForKind(ctx context.Context, gvk schema.GroupVersionKind, opts ...cache.InformerGetOption) (cache.Informer, error) {
	if err := c.gate.Check(ctx, gvk); err != nil {
		return nil, err
	}
	return c.Cache.GetInformerForKind(ctx, gvk, opts...)
}
