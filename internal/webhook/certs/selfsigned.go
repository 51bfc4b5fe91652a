package certs

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// Keys of the CA Secret.
const (
	// SecretCAKey holds the CA bundle, newest CA first.
	SecretCAKey = "ca.crt"
	// SecretKeyKey holds the private key of the newest CA.
	SecretKeyKey = "ca.key"
)

// SelfSigned generates the webhook's CA and serving certificates. The CA
// lives in a Secret of the hub namespace so that all replicas present
// certificates that the same bundle verifies; each replica signs its own
// serving certificate in memory.
//
// Rotation: once a CA has used two thirds of its validity, the replica that
// notices first writes a new CA in front of the bundle (the old CA stays in
// the bundle until it expires, so serving certificates of other replicas
// keep verifying); serving certificates are re-issued by the newest CA when
// they have used two thirds of their validity or the CA changed. Writes
// race safely: the Secret is created or updated with optimistic
// concurrency, and a loser re-reads.
type SelfSigned struct {
	state
	client       kubernetes.Interface
	namespace    string
	name         string
	hosts        []string
	caValidity   time.Duration
	certValidity time.Duration
	interval     time.Duration
	now          func() time.Time

	signer []byte // DER of the CA that signed the current serving certificate
	leaf   *x509.Certificate
}

// Option configures SelfSigned.
type Option func(*SelfSigned)

// WithValidity sets the validity of new CAs and serving certificates
// (default 5 years and 90 days).
func WithValidity(ca, cert time.Duration) Option {
	return func(s *SelfSigned) { s.caValidity, s.certValidity = ca, cert }
}

// WithCheckInterval sets how often expiry and the Secret are checked
// (default 1 minute).
func WithCheckInterval(d time.Duration) Option { return func(s *SelfSigned) { s.interval = d } }

// WithClock replaces time.Now (tests of rotation).
func WithClock(now func() time.Time) Option { return func(s *SelfSigned) { s.now = now } }

// NewSelfSigned keeps the CA in the Secret namespace/name and issues
// serving certificates for hosts (DNS names or IP addresses).
func NewSelfSigned(client kubernetes.Interface, namespace, name string, hosts []string, opts ...Option) *SelfSigned {
	s := &SelfSigned{state: newState(), client: client, namespace: namespace, name: name, hosts: hosts,
		caValidity: 5 * 365 * 24 * time.Hour, certValidity: 90 * 24 * time.Hour, interval: time.Minute, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// NeedLeaderElection implements manager.LeaderElectionRunnable.
func (s *SelfSigned) NeedLeaderElection() bool { return false }

// Start keeps the certificates fresh until ctx ends.
func (s *SelfSigned) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("webhook-certs")
	every(ctx, s.interval, func() {
		if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
			logger.Info("cannot refresh the webhook certificates; will retry", "error", err.Error())
		}
	})
	return nil
}

// Refresh makes sure the CA Secret exists and is fresh and the serving
// certificate is signed by its newest CA and fresh. Its error is
// ReadyzCheck's reason until a refresh works.
func (s *SelfSigned) Refresh(ctx context.Context) (err error) {
	defer func() { s.note(err) }()
	cas, key, err := s.ensureCA(ctx)
	if err != nil {
		return err
	}
	newest := cas[0]
	if s.leaf == nil || !bytes.Equal(s.signer, newest.Raw) || s.used(s.leaf) >= 2.0/3 {
		cert, leaf, err := s.issue(newest, key)
		if err != nil {
			return err
		}
		s.signer, s.leaf = newest.Raw, leaf
		s.set(cert, encodeCerts(cas))
		return nil
	}
	s.set(nil, encodeCerts(cas))
	return nil
}

// ensureCA returns the unexpired CAs of the Secret, newest first, and the
// newest one's key, creating or rotating the CA when needed.
func (s *SelfSigned) ensureCA(ctx context.Context) ([]*x509.Certificate, *ecdsa.PrivateKey, error) {
	secrets := s.client.CoreV1().Secrets(s.namespace)
	for attempt := 0; attempt < 5; attempt++ {
		sec, err := secrets.Get(ctx, s.name, metav1.GetOptions{})
		exists := !apierrors.IsNotFound(err)
		var old []*x509.Certificate
		switch {
		case !exists:
			sec = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: s.namespace,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "flink-hub"}}, Type: corev1.SecretTypeOpaque}
		case err != nil:
			return nil, nil, fmt.Errorf("read CA Secret %s/%s: %w", s.namespace, s.name, err)
		default:
			cas, key, perr := s.parse(sec)
			if perr == nil && s.used(cas[0]) < 2.0/3 {
				return cas, key, nil
			}
			old = cas
		}
		cas, key, err := s.rotate(sec, old)
		if err != nil {
			return nil, nil, err
		}
		if raced, err := s.write(ctx, sec, exists); raced {
			continue
		} else if err != nil {
			return nil, nil, err
		}
		return cas, key, nil
	}
	return nil, nil, fmt.Errorf("CA Secret %s/%s keeps changing under us", s.namespace, s.name)
}

// write creates the CA Secret sec, or updates it when it exists; raced
// means another replica wrote it first.
func (s *SelfSigned) write(ctx context.Context, sec *corev1.Secret, exists bool) (raced bool, err error) {
	secrets := s.client.CoreV1().Secrets(s.namespace)
	if !exists {
		_, err := secrets.Create(ctx, sec, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("create CA Secret %s/%s: %w", s.namespace, s.name, err)
		}
		return false, nil
	}
	_, err = secrets.Update(ctx, sec, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("rotate the CA in Secret %s/%s: %w", s.namespace, s.name, err)
	}
	return false, nil
}

// rotate writes a new CA into sec in front of the still valid old ones.
func (s *SelfSigned) rotate(sec *corev1.Secret, old []*x509.Certificate) ([]*x509.Certificate, *ecdsa.PrivateKey, error) {
	now := s.now()
	tmpl := certTemplate("flink-hub-webhook-ca", now, s.caValidity)
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid, tmpl.IsCA = true, true
	key, ca, err := createCertificate(tmpl, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	cas := []*x509.Certificate{ca}
	for _, c := range old {
		if now.Before(c.NotAfter) {
			cas = append(cas, c)
		}
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	sec.Data = map[string][]byte{
		SecretCAKey:  encodeCerts(cas),
		SecretKeyKey: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
	return cas, key, nil
}

// parse reads the Secret's unexpired CAs (newest first) and the key of the
// first; an error means the Secret must be rewritten.
func (s *SelfSigned) parse(sec *corev1.Secret) ([]*x509.Certificate, *ecdsa.PrivateKey, error) {
	var cas []*x509.Certificate
	rest := sec.Data[SecretCAKey]
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, nil, err
		}
		if s.now().Before(c.NotAfter) {
			cas = append(cas, c)
		}
	}
	kb, _ := pem.Decode(sec.Data[SecretKeyKey])
	if len(cas) == 0 || kb == nil {
		return nil, nil, errors.New("no valid CA")
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	if !key.PublicKey.Equal(cas[0].PublicKey) {
		return nil, nil, errors.New("CA key does not match the newest CA")
	}
	return cas, key, nil
}

// issue signs a serving certificate for the hosts; it never outlives ca.
func (s *SelfSigned) issue(ca *x509.Certificate, caKey *ecdsa.PrivateKey) (*tls.Certificate, *x509.Certificate, error) {
	tmpl := certTemplate("flink-hub-webhook", s.now(), s.certValidity)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	if tmpl.NotAfter.After(ca.NotAfter) {
		tmpl.NotAfter = ca.NotAfter
	}
	for _, h := range s.hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	key, leaf, err := createCertificate(tmpl, ca, caKey)
	if err != nil {
		return nil, nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}, leaf, nil
}

// certTemplate is a certificate for commonName valid from a minute before
// now for validity.
func certTemplate(commonName string, now time.Time, validity time.Duration) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(validity),
	}
}

// createCertificate generates a P-256 key and the certificate of tmpl for
// it, signed by parent with parentKey, or self-signed when parent is nil.
func createCertificate(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return key, cert, nil
}

// used is the share of c's validity that has passed.
func (s *SelfSigned) used(c *x509.Certificate) float64 {
	total := c.NotAfter.Sub(c.NotBefore)
	if total <= 0 {
		return 1
	}
	return float64(s.now().Sub(c.NotBefore)) / float64(total)
}

func encodeCerts(cs []*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range cs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}
