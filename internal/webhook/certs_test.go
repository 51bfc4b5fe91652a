package webhook_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/flink-hub/flink-hub/internal/webhook/certs"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// verifies reports whether bundle verifies s's serving certificate for host.
func verifies(t *testing.T, s certs.Source, bundle []byte, host string, at time.Time) bool {
	t.Helper()
	cert, err := s.GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(bundle) {
		t.Fatal("bundle holds no certificate")
	}
	_, err = cert.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: host, CurrentTime: at})
	return err == nil
}

// TestSelfSignedReplicasShareOneCAAndRotate runs two replicas' certificate
// sources on one CA Secret: each verifies with the other's bundle; as time
// passes, serving certificates and then the CA are renewed before they
// expire, and the bundle keeps the old CA while it is still valid.
func TestSelfSignedReplicasShareOneCAAndRotate(t *testing.T) {
	ctx := context.Background()
	const ns = "certs"
	if err := fleet.Hub.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(fleet.Hub.Config)
	clk := &clock{now: time.Now()}
	opts := []certs.Option{certs.WithValidity(90*time.Hour, 60*time.Hour), certs.WithClock(clk.Now)}
	a := certs.NewSelfSigned(cs, ns, "ca", []string{"hub.example", "127.0.0.1"}, opts...)
	b := certs.NewSelfSigned(cs, ns, "ca", []string{"hub.example"}, opts...)
	if _, err := a.GetCertificate(nil); err != certs.ErrNotReady {
		t.Fatalf("before the first refresh: %v, want ErrNotReady", err)
	}
	refreshAll(t, ctx, a, b)
	bundleA, changedA := a.Watch()
	bundleB, _ := b.Watch()
	if !bytes.Equal(bundleA, bundleB) {
		t.Fatal("replicas hold different CA bundles")
	}
	if !verifies(t, b, bundleA, "hub.example", clk.Now()) || !verifies(t, a, bundleB, "hub.example", clk.Now()) {
		t.Fatal("a replica's certificate does not verify with the shared bundle")
	}
	first, _ := a.GetCertificate(nil)

	// Two thirds into the serving certificate's life it is re-issued; the
	// CA is unchanged.
	clk.Add(41 * time.Hour)
	refreshAll(t, ctx, a, b)
	renewed, _ := a.GetCertificate(nil)
	if renewed == first || !renewed.Leaf.NotAfter.After(first.Leaf.NotAfter) {
		t.Fatal("serving certificate not renewed two thirds into its life")
	}
	select {
	case <-changedA:
		t.Fatal("bundle reported changed without a CA rotation")
	default:
	}

	checkCARotation(t, ctx, clk, a, b, bundleA, changedA)
}

// refreshAll refreshes the certificate sources in turn.
func refreshAll(t *testing.T, ctx context.Context, sources ...*certs.SelfSigned) {
	t.Helper()
	for _, s := range sources {
		if err := s.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// checkCARotation moves clk two thirds into the CA's life: a puts a new CA
// in front of the old one in its bundle (bundleA, watched by changedA), b's
// certificate verifies with both and b picks up the new CA; once the old
// CA expired, it leaves the bundle.
func checkCARotation(t *testing.T, ctx context.Context, clk *clock, a, b *certs.SelfSigned, bundleA []byte, changedA <-chan struct{}) {
	t.Helper()
	// Two thirds into the CA's life a new CA is put in front of the old.
	clk.Add(20 * time.Hour)
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changedA:
	default:
		t.Fatal("CA rotation not reported to watchers")
	}
	rotated, _ := a.Watch()
	if !bytes.HasSuffix(rotated, bundleA) || len(rotated) <= len(bundleA) {
		t.Fatal("rotated bundle must hold the new CA in front of the old one")
	}
	// b's certificate, still signed by the old CA, verifies with the new
	// bundle; b moves to the new CA on its next refresh.
	if !verifies(t, b, rotated, "hub.example", clk.Now()) {
		t.Fatal("other replica's certificate broken by the rotation")
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Watch(); !bytes.Equal(got, rotated) {
		t.Fatal("other replica did not pick up the rotated CA")
	}
	cb, _ := b.GetCertificate(nil)
	ca, _ := a.GetCertificate(nil)
	if !bytes.Equal(cb.Leaf.RawIssuer, ca.Leaf.RawIssuer) {
		t.Fatal("replicas sign with different CAs after the rotation")
	}
	// Once the old CA expired it leaves the bundle.
	clk.Add(30 * time.Hour)
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Watch(); bytes.Count(got, []byte("BEGIN CERTIFICATE")) != 1 {
		t.Fatalf("bundle holds %d CAs after the old one expired, want 1", bytes.Count(got, []byte("BEGIN CERTIFICATE")))
	}
}

// TestFilesReloadsMountedCertificates reads a cert-manager style folder and
// picks up a renewed certificate; until a whole one is there (an issuer
// that writes no ca.crt), the readiness check fails saying what is
// missing.
func TestFilesReloadsMountedCertificates(t *testing.T) {
	ctx := context.Background()
	const ns = "files"
	if err := fleet.Hub.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	// Mint certificates with the self-signed source, as cert-manager would.
	gen := certs.NewSelfSigned(kubernetes.NewForConfigOrDie(fleet.Hub.Config), ns, "ca", []string{"hub.example"})
	dir := t.TempDir()
	write := func() *tls.Certificate {
		if err := gen.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		c, _ := gen.GetCertificate(nil)
		bundle, _ := gen.Watch()
		key, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{
			certs.CertFile: pemBlock("CERTIFICATE", c.Certificate[0]),
			certs.KeyFile:  pemBlock("PRIVATE KEY", key),
			certs.CAFile:   bundle,
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	f := certs.NewFiles(dir, time.Second)
	if err := f.Load(); err == nil {
		t.Fatal("Load of an empty folder succeeded")
	}
	if err := f.ReadyzCheck(nil); err == nil {
		t.Fatal("ready without a certificate")
	}
	write()
	if err := os.Remove(filepath.Join(dir, certs.CAFile)); err != nil {
		t.Fatal(err)
	}
	if err := f.Load(); err == nil {
		t.Fatal("Load of a folder without ca.crt succeeded")
	}
	if err := f.ReadyzCheck(nil); err == nil || !strings.Contains(err.Error(), certs.CAFile) {
		t.Fatalf("readiness without ca.crt: %v, want an error naming it", err)
	}
	want := write()
	if err := f.Load(); err != nil {
		t.Fatal(err)
	}
	if err := f.ReadyzCheck(nil); err != nil {
		t.Fatalf("not ready with a whole certificate: %v", err)
	}
	got, err := f.GetCertificate(nil)
	if err != nil || !bytes.Equal(got.Certificate[0], want.Certificate[0]) {
		t.Fatalf("loaded certificate differs: %v", err)
	}
	bundle, _ := f.Watch()
	if !verifies(t, f, bundle, "hub.example", time.Now()) {
		t.Fatal("mounted certificate does not verify with the mounted CA")
	}
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
