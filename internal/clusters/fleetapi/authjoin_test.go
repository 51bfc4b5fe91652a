package fleetapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
)

// TestAuthJoinsReviewsOfOneToken: requests that come while a token is
// being reviewed wait for that review instead of starting their own, and
// one whose caller goes away stops waiting without cutting the review
// short for the others.
func TestAuthJoinsReviewsOfOneToken(t *testing.T) {
	release := make(chan struct{})
	var reviews atomic.Int32
	a := fleetapi.NewAuth(func(ctx context.Context, _ string) (int, string) {
		reviews.Add(1)
		select {
		case <-release:
			return http.StatusOK, ""
		case <-ctx.Done():
			return http.StatusInternalServerError, "review cut short"
		}
	})
	const callers = 4
	codes := make(chan int, callers)
	for range callers {
		go func() {
			code, _ := a.Check(context.Background(), "token")
			codes <- code
		}()
	}
	gone, leave := context.WithCancel(context.Background())
	left := make(chan int, 1)
	go func() {
		code, _ := a.Check(gone, "token")
		left <- code
	}()
	framework.AwaitWithin(t, 10*time.Second, "every caller waiting for the review", func() error {
		if n := a.Waiting(); n != callers+1 {
			return fmt.Errorf("%d of %d callers waiting", n, callers+1)
		}
		return nil
	})
	leave()
	if code := <-left; code != http.StatusServiceUnavailable {
		t.Errorf("the caller that left got %d, want 503", code)
	}
	close(release)
	for range callers {
		if code := <-codes; code != http.StatusOK {
			t.Errorf("a joined caller got %d, want 200", code)
		}
	}
	if n := reviews.Load(); n != 1 {
		t.Errorf("%d reviews for one token at once, want 1", n)
	}
}
