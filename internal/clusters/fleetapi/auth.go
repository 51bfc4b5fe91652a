package fleetapi

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
)

// TokenHeader carries the caller's bearer token through the service proxy.
const TokenHeader = fleetv1.TokenHeader

// The permission reading the fleet needs: list MemberClusters in the hub
// namespace (a namespaced resource, so a Role there can grant it).
const (
	// AccessGroup is the API group of the resource checked.
	AccessGroup = "hub.flink-hub.io"
	// AccessResource is the resource checked.
	AccessResource = "memberclusters"
	// AccessVerb is the verb checked.
	AccessVerb = "list"
)

// The hub asks its apiserver who a caller is and what it may do:
//
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// allowTTL is how long an allowed token is remembered after the review
// that allowed it started. refreshAhead: a request in the last third of
// that time is served at once and reviews the token again in the
// background, so a caller that keeps asking never waits for a review
// after its first, and a token that lost its access is still refused
// within allowTTL of the last review that allowed it. refuseTTL is how
// long a refusal (401 or 403) is remembered, as the apiserver's own
// delegating authenticator and authorizer remember theirs (10 s), so a
// client that repeats a bad token costs the hub apiserver one review per
// refuseTTL. maxAllowed and maxRefused bound what is remembered.
const (
	allowTTL      = 30 * time.Second
	refreshAhead  = allowTTL / 3
	refuseTTL     = 10 * time.Second
	reviewTimeout = 10 * time.Second
	maxAllowed    = 1024
	maxRefused    = 4096
)

// DefaultTokenReviewsPerSecond is how many tokens the fleet API remembers
// nothing of it reviews a second by default (twice as many at once): the
// reviews share the hub's client to its apiserver, and its priority
// level there, with the hub's own work, so callers sending tokens the hub
// has never seen (random, revoked, one each request) must not take them
// all. Beyond it such a token gets 429 at once, without a review.
const DefaultTokenReviewsPerSecond = 10

// WithAuth wraps next so that only callers the hub apiserver authenticates
// (a TokenReview of their bearer token) and allows to list MemberClusters in
// namespace (a SubjectAccessReview) reach it, as controller-runtime's
// metrics filters do: no token or a rejected one gets 401, a caller without
// the permission 403. An allowed token is remembered for 30 s, and
// reviewed again ahead of that while it is used; a refused one for 10 s.
// Tokens it remembers nothing of are reviewed at most reviewsPerSecond a
// second (DefaultTokenReviewsPerSecond when 0); beyond that they get 429.
func WithAuth(cfg *rest.Config, namespace string, reviewsPerSecond float64, next http.Handler) (http.Handler, error) {
	if cfg == nil || namespace == "" {
		return nil, errors.New("fleet API: a hub config and namespace are needed to authenticate callers")
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	a := newAuth(reviewer{cs: cs, namespace: namespace}.review, reviewsPerSecond)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, msg := a.check(r.Context(), Bearer(r))
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		if code != http.StatusOK {
			http.Error(w, msg, code)
			return
		}
		next.ServeHTTP(w, r)
	}), nil
}

// Bearer returns the request's bearer token (Authorization, or
// TokenHeader through the service proxy), "" without one.
func Bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if h == "" {
		h = r.Header.Get(TokenHeader)
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// review answers http.StatusOK for a token allowed to read the fleet,
// else the status and message to send (never carrying the token).
type review func(ctx context.Context, token string) (int, string)

// auth remembers the tokens review allowed, and for a shorter time those
// it refused (by digest, never the token), and bounds the reviews of
// tokens it remembers nothing of.
type auth struct {
	review review
	now    func() time.Time
	// spawn runs a background review (a goroutine; tests run it inline).
	spawn func(func())

	// inflight joins the requests that wait for a review of one token
	// (a console's first page asks for several things at once, a peer
	// asks while the replica reviews the token for its own caller).
	inflight singleflight.Group
	// waiting counts the requests waiting for a review.
	waiting atomic.Int32

	// unknown admits the reviews of tokens neither allowed nor refused
	// before (a token once allowed is reviewed again without it, so a
	// flood of unknown tokens cannot lock out the callers already served).
	unknown *rate.Limiter

	mu      sync.Mutex
	allowed map[[32]byte]*grant
	refused map[[32]byte]refusal
}

// refusal is a remembered refusal: until when, and what to answer.
type refusal struct {
	until time.Time
	verdict
}

// grant is a remembered allowance: until when, and whether a background
// review of it is under way.
type grant struct {
	until      time.Time
	refreshing bool
}

// newAuth reviews tokens with r, at most reviewsPerSecond tokens it
// remembers nothing of a second (DefaultTokenReviewsPerSecond when not
// positive), twice as many at once.
func newAuth(r review, reviewsPerSecond float64) *auth {
	if reviewsPerSecond <= 0 {
		reviewsPerSecond = DefaultTokenReviewsPerSecond
	}
	burst := max(1, int(2*reviewsPerSecond))
	return &auth{review: r, now: time.Now, spawn: func(f func()) { go f() },
		unknown: rate.NewLimiter(rate.Limit(reviewsPerSecond), burst),
		allowed: map[[32]byte]*grant{}, refused: map[[32]byte]refusal{}}
}

// check answers 200 for a token allowed to read the fleet, else the status
// and message to send. Messages never carry the token.
func (a *auth) check(ctx context.Context, token string) (int, string) {
	if token == "" {
		return http.StatusUnauthorized, "fleet API: Unauthorized: send a bearer token the hub apiserver accepts (Authorization or " + TokenHeader + ")"
	}
	sum := sha256.Sum256([]byte(token))
	now := a.now()
	a.mu.Lock()
	if r, ok := a.refused[sum]; ok && now.Before(r.until) {
		a.mu.Unlock()
		return r.code, r.msg
	}
	g, known := a.allowed[sum]
	allowed := known && now.Before(g.until)
	refresh := allowed && !g.refreshing && g.until.Sub(now) < refreshAhead
	if refresh {
		g.refreshing = true
	}
	a.mu.Unlock()
	if refresh {
		a.spawn(func() {
			a.reviewJoined(context.Background(), sum, token, true)
		})
	}
	if allowed {
		return http.StatusOK, ""
	}
	return a.reviewJoined(ctx, sum, token, known)
}

// verdict is a review's answer.
type verdict struct {
	code int
	msg  string
}

// reviewJoined reviews token, or waits for the review of it under way:
// one review, bounded by reviewTimeout and not by any one caller, answers
// every request that waits for it; each caller stops waiting when its own
// ctx ends. A token not known (never allowed) is reviewed only when the
// limiter of unknown tokens admits it, else every waiting request gets 429.
func (a *auth) reviewJoined(ctx context.Context, sum [32]byte, token string, known bool) (int, string) {
	a.waiting.Add(1)
	defer a.waiting.Add(-1)
	ch := a.inflight.DoChan(string(sum[:]), func() (any, error) {
		if !known && !a.unknown.AllowN(a.now(), 1) {
			return verdict{http.StatusTooManyRequests, "fleet API: Too many requests: the hub is reviewing as many new tokens as it may; retry shortly"}, nil
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reviewTimeout)
		defer cancel()
		code, msg := a.reviewInto(rctx, sum, token)
		return verdict{code, msg}, nil
	})
	select {
	case r := <-ch:
		v := r.Val.(verdict)
		return v.code, v.msg
	case <-ctx.Done():
		return http.StatusServiceUnavailable, "fleet API: the request ended before the hub apiserver reviewed its token"
	}
}

// reviewInto reviews token and records the verdict: an allowance for
// allowTTL from the review's start, or a refusal for refuseTTL when the
// hub apiserver refused the token. A review that could not be made leaves
// what is remembered to run out.
func (a *auth) reviewInto(ctx context.Context, sum [32]byte, token string) (int, string) {
	start := a.now()
	code, msg := a.review(ctx, token)
	a.mu.Lock()
	defer a.mu.Unlock()
	switch code {
	case http.StatusOK:
		if len(a.allowed) >= maxAllowed {
			clear(a.allowed)
		}
		a.allowed[sum] = &grant{until: start.Add(allowTTL)}
		delete(a.refused, sum)
	case http.StatusUnauthorized, http.StatusForbidden:
		delete(a.allowed, sum)
		a.remember(sum, refusal{start.Add(refuseTTL), verdict{code, msg}}, start)
	default:
		if g, ok := a.allowed[sum]; ok {
			g.refreshing = false
		}
	}
	return code, msg
}

// remember records refusal r of a token, holding at most maxRefused: the
// ones run out go first, then any. Called with mu held.
func (a *auth) remember(sum [32]byte, r refusal, now time.Time) {
	if len(a.refused) >= maxRefused {
		for k, old := range a.refused {
			if !now.Before(old.until) {
				delete(a.refused, k)
			}
		}
	}
	for k := range a.refused {
		if len(a.refused) < maxRefused {
			break
		}
		delete(a.refused, k)
	}
	a.refused[sum] = r
}

// reviewer reviews tokens with the hub apiserver: who the caller is (a
// TokenReview), then whether it may list MemberClusters in namespace (a
// SubjectAccessReview).
type reviewer struct {
	cs        kubernetes.Interface
	namespace string
}

func (r reviewer) review(ctx context.Context, token string) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, reviewTimeout)
	defer cancel()
	tr, err := r.cs.AuthenticationV1().TokenReviews().Create(ctx, &authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		return http.StatusInternalServerError, "fleet API: the hub apiserver could not review the token"
	}
	if !tr.Status.Authenticated {
		return http.StatusUnauthorized, "fleet API: Unauthorized: the hub apiserver does not accept the token"
	}
	u := tr.Status.User
	extra := map[string]authzv1.ExtraValue{}
	for k, v := range u.Extra {
		extra[k] = authzv1.ExtraValue(v)
	}
	sar, err := r.cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
		User: u.Username, UID: u.UID, Groups: u.Groups, Extra: extra,
		ResourceAttributes: &authzv1.ResourceAttributes{Namespace: r.namespace, Verb: AccessVerb, Group: AccessGroup, Resource: AccessResource},
	}}, metav1.CreateOptions{})
	if err != nil {
		return http.StatusInternalServerError, "fleet API: the hub apiserver could not review the access"
	}
	if !sar.Status.Allowed || sar.Status.Denied {
		return http.StatusForbidden, fmt.Sprintf("fleet API: Forbidden: user %q cannot %s %s.%s in namespace %q, which reading the fleet needs",
			u.Username, AccessVerb, AccessResource, AccessGroup, r.namespace)
	}
	return http.StatusOK, ""
}
