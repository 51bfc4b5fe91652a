package webhook_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"

	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/webhook/registrar"
)

// bundle is a CA bundle the test replaces, as a rotation would.
type bundle struct {
	mu      sync.Mutex
	pem     []byte
	changed chan struct{}
}

func (b *bundle) Watch() ([]byte, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pem, b.changed
}

func (b *bundle) set(pem []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pem = pem
	close(b.changed)
	b.changed = make(chan struct{})
}

// TestRegistrarFollowsBundleChanges engages a member and checks the
// registered configuration: the URL, failure policy and timeout given, and
// a caBundle that follows every change of the hub's bundle; it is never
// applied before there is a bundle.
func TestRegistrarFollowsBundleChanges(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	m := fleet.Members[0]
	cl, err := cluster.New(m.Config)
	if err != nil {
		t.Fatal(err)
	}
	token := registrar.PathToken("member", m.Config)
	if len(token) != 32 {
		t.Fatalf("path token %q of a member reached with a client key, want 32 hex digits", token)
	}
	b := &bundle{changed: make(chan struct{})}
	r := registrar.New(b, registrar.Options{URL: "https://hub.example/validate", FailurePolicy: admissionregistrationv1.Fail, Timeout: 3 * time.Second})
	if err := r.Engage(ctx, "member", cl); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		cfg, err := registered(context.Background(), m)
		if err == nil {
			_ = m.Client.Delete(context.Background(), cfg)
		}
	}()

	if _, err := registered(ctx, m); client.IgnoreNotFound(err) != nil || err == nil {
		t.Fatalf("registered before the hub had a CA bundle: %v", err)
	}
	for _, pem := range [][]byte{[]byte("bundle-1"), []byte("bundle-2")} {
		b.set(pem)
		var got *admissionregistrationv1.ValidatingWebhookConfiguration
		if err := framework.Eventually(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
			got, err = registered(ctx, m)
			if err != nil {
				return false, client.IgnoreNotFound(err)
			}
			return bytes.Equal(got.Webhooks[0].ClientConfig.CABundle, pem), nil
		}); err != nil {
			t.Fatalf("caBundle never became %q: %v", pem, err)
		}
		h := got.Webhooks[0]
		if ptr.Deref(h.ClientConfig.URL, "") != "https://hub.example/validate/member/"+token || *h.FailurePolicy != admissionregistrationv1.Fail || *h.TimeoutSeconds != 3 {
			t.Errorf("webhook = url %v policy %v timeout %v", ptr.Deref(h.ClientConfig.URL, ""), *h.FailurePolicy, *h.TimeoutSeconds)
		}
	}
}

// TestPathTokenFollowsMemberAndCredentials: the token differs between
// members and between credentials of one member, is the same for the same
// ones (every replica computes it), and is empty for credentials without a
// secret.
func TestPathTokenFollowsMemberAndCredentials(t *testing.T) {
	token := func(member, bearer, key, password string) string {
		return registrar.PathToken(member, &rest.Config{BearerToken: bearer, Password: password, TLSClientConfig: rest.TLSClientConfig{KeyData: []byte(key)}})
	}
	base := token("m1", "secret-token", "", "")
	for name, other := range map[string]string{
		"another member":       token("m2", "secret-token", "", ""),
		"another token":        token("m1", "secret-token-2", "", ""),
		"a client key":         token("m1", "", "secret-token", ""),
		"a password":           token("m1", "", "", "secret-token"),
		"token and client key": token("m1", "secret-token", "key", ""),
	} {
		if other == base {
			t.Errorf("%s: same token %q", name, other)
		}
	}
	if again := token("m1", "secret-token", "", ""); again != base {
		t.Errorf("same member and credentials: %q then %q", base, again)
	}
	if strings.Contains(base, "secret-token") || len(base) != 32 {
		t.Errorf("token %q: want 32 hex digits that do not show the credential", base)
	}
	if empty := token("m1", "", "", ""); empty != "" {
		t.Errorf("credentials without a secret gave token %q, want none", empty)
	}
}
