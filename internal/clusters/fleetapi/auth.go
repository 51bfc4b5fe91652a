package fleetapi

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"net/http"
	"strings"
	"sync"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
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

// allowTTL is how long an allowed token is remembered; refusals are not.
const allowTTL = 30 * time.Second

// WithAuth wraps next so that only callers the hub apiserver authenticates
// (a TokenReview of their bearer token) and allows to list MemberClusters in
// namespace (a SubjectAccessReview) reach it, as controller-runtime's
// metrics filters do: no token or a rejected one gets 401, a caller without
// the permission 403. An allowed token is remembered for 30 s.
func WithAuth(cfg *rest.Config, namespace string, next http.Handler) (http.Handler, error) {
	if cfg == nil || namespace == "" {
		return nil, errors.New("fleet API: a hub config and namespace are needed to authenticate callers")
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	a := &auth{cs: cs, namespace: namespace, allowed: map[[32]byte]time.Time{}}
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

type auth struct {
	cs        kubernetes.Interface
	namespace string

	mu      sync.Mutex
	allowed map[[32]byte]time.Time // sha256 of a token -> until when it is allowed
}

// check answers 200 for a token allowed to read the fleet, else the status
// and message to send. Messages never carry the token.
func (a *auth) check(ctx context.Context, token string) (int, string) {
	if token == "" {
		return http.StatusUnauthorized, "fleet API: Unauthorized: send a bearer token the hub apiserver accepts (Authorization or " + TokenHeader + ")"
	}
	sum := sha256.Sum256([]byte(token))
	a.mu.Lock()
	until, ok := a.allowed[sum]
	a.mu.Unlock()
	if ok && time.Now().Before(until) {
		return http.StatusOK, ""
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tr, err := a.cs.AuthenticationV1().TokenReviews().Create(ctx, &authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
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
	sar, err := a.cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
		User: u.Username, UID: u.UID, Groups: u.Groups, Extra: extra,
		ResourceAttributes: &authzv1.ResourceAttributes{Namespace: a.namespace, Verb: AccessVerb, Group: AccessGroup, Resource: AccessResource},
	}}, metav1.CreateOptions{})
	if err != nil {
		return http.StatusInternalServerError, "fleet API: the hub apiserver could not review the access"
	}
	if !sar.Status.Allowed || sar.Status.Denied {
		return http.StatusForbidden, fmt.Sprintf("fleet API: Forbidden: user %q cannot %s %s.%s in namespace %q, which reading the fleet needs",
			u.Username, AccessVerb, AccessResource, AccessGroup, a.namespace)
	}
	a.mu.Lock()
	if len(a.allowed) >= 1024 {
		clear(a.allowed)
	}
	a.allowed[sum] = time.Now().Add(allowTTL)
	a.mu.Unlock()
	return http.StatusOK, ""
}
