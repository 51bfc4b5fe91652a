package fleetapi

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// TestAuthRemembersAndReviewsAhead follows one token through the rules of
// auth: a first request waits for its review; one within the allowance is
// served without a review; one in its last third is served at once and
// reviewed behind it, which extends the allowance or, for a token that
// lost its access, ends it; a review the hub apiserver could not make
// leaves the allowance to run out; a token is never allowed past allowTTL
// after the start of the last review that allowed it; a refusal is
// remembered for refuseTTL.
func TestAuthRemembersAndReviewsAhead(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	type step struct {
		name string
		at   time.Duration // after t0
		// verdict is what the hub apiserver answers from this step on.
		verdict int
		// want is the answer; reviews the reviews made by the step
		// (inline, the background one included); inBackground whether
		// the answer was given before its review.
		want         int
		reviews      int
		inBackground bool
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"a token in use stays served without a wait", []step{
			{"first request reviews", 0, http.StatusOK, http.StatusOK, 1, false},
			{"within the allowance", 5 * time.Second, http.StatusOK, http.StatusOK, 0, false},
			{"last third: served, reviewed behind", 25 * time.Second, http.StatusOK, http.StatusOK, 1, true},
			{"past the first allowance, within the renewed one", 40 * time.Second, http.StatusOK, http.StatusOK, 0, false},
		}},
		{"a token that lost its access is refused within the allowance", []step{
			{"first request reviews", 0, http.StatusOK, http.StatusOK, 1, false},
			{"access removed; last third: still served, reviewed behind", 21 * time.Second, http.StatusForbidden, http.StatusOK, 1, true},
			{"the refusal ended the allowance and is remembered", 22 * time.Second, http.StatusForbidden, http.StatusForbidden, 0, false},
			{"access given back: refused until refuseTTL after the refusal's review", 30 * time.Second, http.StatusOK, http.StatusForbidden, 0, false},
			{"past refuseTTL the token is reviewed again", 31 * time.Second, http.StatusOK, http.StatusOK, 1, false},
		}},
		{"a review that cannot be made leaves the allowance to run out", []step{
			{"first request reviews", 0, http.StatusOK, http.StatusOK, 1, false},
			{"apiserver down; last third: served, review fails", 25 * time.Second, http.StatusInternalServerError, http.StatusOK, 1, true},
			{"still allowed, reviewed again behind", 27 * time.Second, http.StatusInternalServerError, http.StatusOK, 1, true},
			{"allowance over: the review is waited for", 30 * time.Second, http.StatusInternalServerError, http.StatusInternalServerError, 1, false},
		}},
		{"an unused allowance runs out", []step{
			{"first request reviews", 0, http.StatusOK, http.StatusOK, 1, false},
			{"after allowTTL the review is waited for", 31 * time.Second, http.StatusUnauthorized, http.StatusUnauthorized, 1, false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := t0
			verdict := http.StatusOK
			reviews := 0
			var answered bool // whether check returned before the review ran
			var queued []func()
			a := newAuth(func(context.Context, string) (int, string) {
				reviews++
				return verdict, http.StatusText(verdict)
			}, DefaultTokenReviewsPerSecond)
			a.now = func() time.Time { return now }
			a.spawn = func(f func()) { queued = append(queued, f) }
			for _, s := range tc.steps {
				now, verdict, reviews, queued = t0.Add(s.at), s.verdict, 0, nil
				code, _ := a.check(context.Background(), "token")
				answered = reviews == 0
				for _, f := range queued {
					f()
				}
				if code != s.want || reviews != s.reviews || (s.inBackground && !answered) || (s.inBackground != (len(queued) > 0)) {
					t.Fatalf("%s: answer %d, reviews %d, background %d (answered before it: %v); want %d, %d, background %v",
						s.name, code, reviews, len(queued), answered, s.want, s.reviews, s.inBackground)
				}
			}
		})
	}
}

// TestAuthReviewsATokenOnceAtATime: while a background review of a token
// is under way, further requests do not start another.
func TestAuthReviewsATokenOnceAtATime(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	a := newAuth(func(context.Context, string) (int, string) { return http.StatusOK, "" }, DefaultTokenReviewsPerSecond)
	a.now = func() time.Time { return now }
	var queued []func()
	a.spawn = func(f func()) { queued = append(queued, f) }
	if code, _ := a.check(context.Background(), "token"); code != http.StatusOK {
		t.Fatalf("first answer %d", code)
	}
	now = now.Add(25 * time.Second)
	for range 3 {
		if code, _ := a.check(context.Background(), "token"); code != http.StatusOK {
			t.Fatalf("answer %d", code)
		}
	}
	if len(queued) != 1 {
		t.Fatalf("%d background reviews started, want 1", len(queued))
	}
}
