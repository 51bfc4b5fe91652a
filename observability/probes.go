package observability

import (
	"context"
	"fmt"
	"net/http"
	"time"

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
	hc, err := rest.HTTPClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("hub apiserver probe: %w", err)
	}
	url := c.Host + "/readyz"
	return func(r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("hub apiserver unreachable")
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("hub apiserver not ready: %s", resp.Status)
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
