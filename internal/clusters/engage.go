package clusters

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
)

// DefaultSyncTimeout bounds the wait for a member's caches when it is
// engaged (ProviderOptions.SyncTimeout zero).
const DefaultSyncTimeout = time.Minute

// engagement is the outcome of a member's last engagement: engaged, or
// why not.
type engagement struct {
	engaged bool
	message string
}

// syncKinds starts cl's informers of kinds and waits, within timeout, until
// they hold the member's objects. A kind the member does not serve (a CRD
// the hub installs once engaged) is skipped. Engaging a member holds
// locks every engagement shares (multicluster-runtime's controllers start
// their sources under them, and a source waits for its informer): syncing
// first, outside those locks, keeps a member that stops answering from
// holding the engagement of every other.
func syncKinds(ctx context.Context, cl cluster.Cluster, kinds []client.Object, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Informers of a cache that has not started yet are returned at once:
	// get them all, then wait for each.
	informers := make([]cache.Informer, len(kinds))
	for i, obj := range kinds {
		inf, err := cl.GetCache().GetInformer(ctx, obj, cache.BlockUntilSynced(false))
		switch {
		case meta.IsNoMatchError(err):
		case err != nil && ctx.Err() != nil:
			return notListed(obj, timeout)
		case err != nil:
			return fmt.Errorf("cannot watch its %ss: %w", kindOf(obj), err)
		}
		informers[i] = inf
	}
	for i, inf := range informers {
		if inf != nil && !toolscache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			return notListed(kinds[i], timeout)
		}
	}
	return nil
}

// notListed is the error of a kind not listed within timeout.
func notListed(obj client.Object, timeout time.Duration) error {
	return fmt.Errorf("its %ss were not listed within %v: is its apiserver answering, and may the hub list and watch them?", kindOf(obj), timeout)
}

// kindOf is the name of obj's Go type, its kind.
func kindOf(obj client.Object) string {
	return reflect.TypeOf(obj).Elem().Name()
}

// boundedCluster is a member's cluster as controllers engage it: every wait
// of its cache for informers ends within timeout, so that an engagement
// never holds the shared locks (see syncKinds) for longer. A wait that
// timed out makes the engagement fail (err), even where the caller cannot
// tell, as multicluster-runtime's Kind source cannot: it then goes on
// without its event handler.
type boundedCluster struct {
	cluster.Cluster
	cache *boundedCache
}

func newBoundedCluster(cl cluster.Cluster, kinds []client.Object, timeout time.Duration) *boundedCluster {
	return &boundedCluster{Cluster: cl, cache: &boundedCache{Cache: cl.GetCache(), kinds: kinds, timeout: timeout}}
}

// GetCache returns the bounded cache.
func (c *boundedCluster) GetCache() cache.Cache { return c.cache }

// err is why a wait of the engagement failed; nil if none did.
func (c *boundedCluster) err() error {
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	return c.cache.failed
}

// boundedCache bounds GetInformer and WaitForCacheSync by timeout; the
// latter waits only for the informers of kinds (every informer when none
// are given): informers that reads create later sync on their own.
type boundedCache struct {
	cache.Cache
	kinds   []client.Object
	timeout time.Duration

	mu     sync.Mutex
	failed error
}

// GetInformer returns the informer of obj, or an error once timeout passed.
func (c *boundedCache) GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	inf, err := c.Cache.GetInformer(ctx, obj, opts...)
	if err != nil && ctx.Err() != nil {
		c.fail(notListed(obj, c.timeout))
	}
	return inf, err
}

// WaitForCacheSync waits for the informers of the engaged kinds.
func (c *boundedCache) WaitForCacheSync(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	synced := true
	if len(c.kinds) == 0 {
		synced = c.Cache.WaitForCacheSync(ctx)
	}
	for _, obj := range c.kinds {
		inf, err := c.Cache.GetInformer(ctx, obj, cache.BlockUntilSynced(false))
		if meta.IsNoMatchError(err) {
			continue
		}
		if err != nil || !toolscache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			synced = false
			break
		}
	}
	if !synced && ctx.Err() != nil {
		c.fail(fmt.Errorf("its caches did not sync within %v", c.timeout))
	}
	return synced
}

func (c *boundedCache) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failed = errors.Join(c.failed, err)
}
