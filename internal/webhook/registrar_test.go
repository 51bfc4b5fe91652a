package webhook_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
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
		if ptr.Deref(h.ClientConfig.URL, "") != "https://hub.example/validate/member" || *h.FailurePolicy != admissionregistrationv1.Fail || *h.TimeoutSeconds != 3 {
			t.Errorf("webhook = url %v policy %v timeout %v", ptr.Deref(h.ClientConfig.URL, ""), *h.FailurePolicy, *h.TimeoutSeconds)
		}
	}
}
