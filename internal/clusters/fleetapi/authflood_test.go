package fleetapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// floodAuth is an auth on a clock that moves only when the test moves
// it, whose reviews allow the tokens in good, refuse the others with 401,
// and are counted; background reviews run when the test runs them.
type floodAuth struct {
	*auth
	clock   time.Time
	reviews int
	queued  []func()
}

func newFloodAuth(reviewsPerSecond float64, good ...string) *floodAuth {
	f := &floodAuth{clock: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	f.auth = newAuth(func(_ context.Context, token string) (int, string) {
		f.reviews++
		for _, g := range good {
			if token == g {
				return http.StatusOK, ""
			}
		}
		return http.StatusUnauthorized, "refused"
	}, reviewsPerSecond)
	f.now = func() time.Time { return f.clock }
	f.spawn = func(fn func()) { f.queued = append(f.queued, fn) }
	return f
}

// ask sends token n times and returns the answers by status.
func (f *floodAuth) ask(token string, n int) map[int]int {
	codes := map[int]int{}
	for range n {
		code, _ := f.check(context.Background(), token)
		codes[code]++
	}
	return codes
}

// flood sends n distinct tokens never seen before, once each.
func (f *floodAuth) flood(prefix string, n int) map[int]int {
	codes := map[int]int{}
	for i := range n {
		code, _ := f.check(context.Background(), fmt.Sprintf("%s-%d", prefix, i))
		codes[code]++
	}
	return codes
}

// runQueued runs the background reviews started so far.
func (f *floodAuth) runQueued() {
	for _, fn := range f.queued {
		fn()
	}
	f.queued = nil
}

// TestAuthRemembersRefusals: a token the hub apiserver refused is
// answered from memory for refuseTTL, so repeating it costs one review;
// after refuseTTL it is reviewed again.
func TestAuthRemembersRefusals(t *testing.T) {
	f := newFloodAuth(DefaultTokenReviewsPerSecond)
	if got := f.ask("revoked", 50); got[http.StatusUnauthorized] != 50 || f.reviews != 1 {
		t.Fatalf("a refused token sent 50 times: answers %v, %d reviews; want 50 x 401 and 1 review", got, f.reviews)
	}
	f.clock = f.clock.Add(refuseTTL - time.Millisecond)
	if got := f.ask("revoked", 10); got[http.StatusUnauthorized] != 10 || f.reviews != 1 {
		t.Fatalf("within refuseTTL: answers %v, %d reviews; want 401s and no review", got, f.reviews)
	}
	f.clock = f.clock.Add(time.Millisecond)
	if got := f.ask("revoked", 10); got[http.StatusUnauthorized] != 10 || f.reviews != 2 {
		t.Fatalf("after refuseTTL: answers %v, %d reviews; want 401s and one more review", got, f.reviews)
	}
}

// TestAuthBoundsReviewsOfUnknownTokens: distinct tokens never seen are
// reviewed at most at the configured rate (twice it at once); beyond it
// they get 429 without a review. Tokens already allowed keep being
// served, and reviewed again ahead of their expiry or after it, during
// the flood.
func TestAuthBoundsReviewsOfUnknownTokens(t *testing.T) {
	f := newFloodAuth(5, "legit", "returning")
	if got := f.ask("legit", 1); got[http.StatusOK] != 1 {
		t.Fatalf("legit token before the flood: %v", got)
	}
	if got := f.ask("returning", 1); got[http.StatusOK] != 1 {
		t.Fatalf("returning token before the flood: %v", got)
	}
	f.reviews = 0
	// A burst of 10 is left of the bucket (2 went to the tokens above
	// and 1 second has not passed).
	got := f.flood("random", 1000)
	if got[http.StatusUnauthorized] != 8 || got[http.StatusTooManyRequests] != 992 || f.reviews != 8 {
		t.Fatalf("1000 random tokens at once: answers %v, %d reviews; want 8 reviewed (the burst left), 992 x 429", got, f.reviews)
	}
	f.reviews = 0
	if got := f.ask("legit", 5); got[http.StatusOK] != 5 || f.reviews != 0 {
		t.Fatalf("remembered token during the flood: %v, %d reviews; want 200s from memory", got, f.reviews)
	}
	// 25 s later the bucket is full again; the flood empties it. The
	// remembered token, in its last third, is served and reviewed behind.
	f.clock = f.clock.Add(25 * time.Second)
	f.flood("random-again", 1000)
	f.reviews = 0
	if got := f.ask("legit", 1); got[http.StatusOK] != 1 || len(f.queued) != 1 {
		t.Fatalf("remembered token in its last third during the flood: %v, %d background reviews", got, len(f.queued))
	}
	f.runQueued()
	if f.reviews != 1 {
		t.Fatalf("its background review was not made (%d reviews)", f.reviews)
	}
	// A token once allowed whose allowance ran out is reviewed, flood or
	// not, and allowed again.
	f.clock = f.clock.Add(10 * time.Second)
	f.flood("random-third", 1000)
	f.reviews = 0
	if got := f.ask("returning", 1); got[http.StatusOK] != 1 || f.reviews != 1 {
		t.Fatalf("token allowed before, allowance over, during the flood: %v, %d reviews; want 200 after a review", got, f.reviews)
	}
}

// TestAuthMemoryIsBounded: however many distinct tokens come, what auth
// remembers stays within maxRefused refusals and maxAllowed allowances.
func TestAuthMemoryIsBounded(t *testing.T) {
	good := make([]string, 0, maxAllowed+100)
	for i := range maxAllowed + 100 {
		good = append(good, fmt.Sprintf("good-%d", i))
	}
	f := newFloodAuth(1e9, good...)
	f.flood("random", 3*maxRefused)
	for _, g := range good {
		f.ask(g, 1)
	}
	if len(f.refused) > maxRefused || len(f.allowed) > maxAllowed {
		t.Fatalf("%d refusals, %d allowances remembered; want at most %d and %d", len(f.refused), len(f.allowed), maxRefused, maxAllowed)
	}
	if got := f.ask("random-1", 1); got[http.StatusUnauthorized] != 1 {
		t.Fatalf("a refused token after the bound: %v", got)
	}
}

// TestWithAuthAsksToRetryBeyondTheBound: over HTTP, a token refused for
// the bound on reviews gets 429 with Retry-After, without a review (the
// hub apiserver here is unreachable, so a review would answer 500).
func TestWithAuthAsksToRetryBeyondTheBound(t *testing.T) {
	h, err := WithAuth(&rest.Config{Host: "https://127.0.0.1:1"}, "hub", 0.001, http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for i, want := range []int{http.StatusInternalServerError, http.StatusTooManyRequests} {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/fleet/v1/clusters", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", fmt.Sprintf("Bearer token-%d", i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want || (want == http.StatusTooManyRequests) != (resp.Header.Get("Retry-After") == "1") {
			t.Fatalf("token %d: %d, Retry-After %q; want %d, and Retry-After 1 with 429", i, resp.StatusCode, resp.Header.Get("Retry-After"), want)
		}
	}
}
