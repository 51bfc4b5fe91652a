package observability

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
)

// APIServerChecker is a readiness check that fails while the apiserver of cfg
// (the hub) does not answer /readyz within timeout, so a replica cut off
// from the hub goes unready.
func APIServerChecker(cfg *rest.Config, timeout time.Duration) (healthz.Checker, error) {
	c := rest.CopyConfig(cfg)
	c.Timeout = timeout
	dc, err := discovery.NewDiscoveryClientForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("hub apiserver probe: %w", err)
	}
	return func(r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		if err := dc.RESTClient().Get().AbsPath("/readyz").Do(ctx).Error(); err != nil {
			return fmt.Errorf("hub apiserver not ready or unreachable")
		}
		return nil
	}, nil
}

// CacheSyncedChecker is a readiness check that fails until the cache's
// informers have synced.
func CacheSyncedChecker(c cache.Cache) healthz.Checker {
	return func(r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), 100*time.Millisecond)
		defer cancel()
		if !c.WaitForCacheSync(ctx) {
			return fmt.Errorf("hub caches not synced")
		}
		return nil
	}
}
