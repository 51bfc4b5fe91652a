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
// that allowed it started; refusals are not remembered. refreshAhead: a
// request in the last third of that time is served at once and reviews
// the token again in the background, so a caller that keeps asking never
// waits for a review after its first, and a token that lost its access is
// still refused within allowTTL of the last review that allowed it.
const (
	allowTTL      = 30 * time.Second
	refreshAhead  = allowTTL / 3
	reviewTimeout = 10 * time.Second
)

// WithAuth wraps next so that only callers the hub apiserver authenticates
// (a TokenReview of their bearer token) and allows to list MemberClusters in
// namespace (a SubjectAccessReview) reach it, as controller-runtime's
// metrics filters do: no token or a rejected one gets 401, a caller without
// the permission 403. An allowed token is remembered for 30 s, and
// reviewed again ahead of that while it is used.
func WithAuth(cfg *rest.Config, namespace string, next http.Handler) (http.Handler, error) {
	if cfg == nil || namespace == "" {
		return nil, errors.New("fleet API: a hub config and namespace are needed to authenticate callers")
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	a := newAuth(reviewer{cs: cs, namespace: namespace}.review)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, msg := a.check(r.Context(), Bearer(r))
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

// auth remembers the tokens review allowed (by digest, never the token).
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

	mu      sync.Mutex
	allowed map[[32]byte]*grant
}

// grant is a remembered allowance: until when, and whether a background
// review of it is under way.
type grant struct {
	until      time.Time
	refreshing bool
}

func newAuth(r review) *auth {
	return &auth{review: r, now: time.Now, spawn: func(f func()) { go f() }, allowed: map[[32]byte]*grant{}}
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
	g, ok := a.allowed[sum]
	allowed := ok && now.Before(g.until)
	refresh := allowed && !g.refreshing && g.until.Sub(now) < refreshAhead
	if refresh {
		g.refreshing = true
	}
	a.mu.Unlock()
	if refresh {
		a.spawn(func() {
			a.reviewJoined(context.Background(), sum, token)
		})
	}
	if allowed {
		return http.StatusOK, ""
	}
	return a.reviewJoined(ctx, sum, token)
}

// verdict is a review's answer.
type verdict struct {
	code int
	msg  string
}

// reviewJoined reviews token, or waits for the review of it under way:
// one review, bounded by reviewTimeout and not by any one caller, answers
// every request that waits for it; each caller stops waiting when its own
// ctx ends.
func (a *auth) reviewJoined(ctx context.Context, sum [32]byte, token string) (int, string) {
	a.waiting.Add(1)
	defer a.waiting.Add(-1)
	ch := a.inflight.DoChan(string(sum[:]), func() (any, error) {
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
// allowTTL from the review's start, or none when the hub apiserver refused
// the token. A review that could not be made leaves what is remembered to
// run out.
func (a *auth) reviewInto(ctx context.Context, sum [32]byte, token string) (int, string) {
	start := a.now()
	code, msg := a.review(ctx, token)
	a.mu.Lock()
	defer a.mu.Unlock()
	switch code {
	case http.StatusOK:
		if len(a.allowed) >= 1024 {
			clear(a.allowed)
		}
		a.allowed[sum] = &grant{until: start.Add(allowTTL)}
	case http.StatusUnauthorized, http.StatusForbidden:
		delete(a.allowed, sum)
	default:
		if g, ok := a.allowed[sum]; ok {
			g.refreshing = false
		}
	}
	return code, msg
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
