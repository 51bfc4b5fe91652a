package memberconfig

import (
	"errors"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
)

// InsecureError says why a kubeconfig would let others read or change the
// hub's traffic to the member (and its credentials). Its message names the
// kubeconfig field and what to do, never the data.
type InsecureError struct{ reason string }

func (e *InsecureError) Error() string { return e.reason }

// IsInsecure reports whether err (or an error it wraps) is an InsecureError.
func IsInsecure(err error) bool {
	var ie *InsecureError
	return errors.As(err, &ie)
}

// allowFlag is the hub flag that accepts insecure kubeconfigs.
const allowFlag = "--allow-insecure-member-kubeconfigs"

// CheckSecure refuses a client config that skips verification of the
// member's certificate (insecure-skip-tls-verify), speaks plain HTTP, or
// sends the traffic through a proxy (proxy-url). The error is an
// InsecureError.
func CheckSecure(cfg *rest.Config) error {
	switch {
	case cfg.Insecure:
		return &InsecureError{"kubeconfig skips TLS verification of the member's apiserver (insecure-skip-tls-verify); " +
			"embed the member's CA in certificate-authority-data instead, or start the hub with " + allowFlag}
	case !rest.IsConfigTransportTLS(*cfg):
		return &InsecureError{"kubeconfig talks to the member over plain HTTP; use its https:// address with the member's CA, " +
			"or start the hub with " + allowFlag}
	case cfg.Proxy != nil:
		return &InsecureError{"kubeconfig sends the hub's traffic to the member through a proxy (proxy-url); " +
			"remove proxy-url, or start the hub with " + allowFlag}
	}
	return nil
}

// Policy is what the hub accepts of member kubeconfigs: always
// self-contained ones (CheckSelfContained), insecure ones (CheckSecure)
// only when AllowInsecure is set.
type Policy struct {
	// AllowInsecure accepts kubeconfigs that CheckSecure refuses.
	AllowInsecure bool
}

// Check returns an InvalidError or InsecureError when the policy refuses cfg.
func (p Policy) Check(cfg *rest.Config) error {
	if err := CheckSelfContained(cfg); err != nil {
		return err
	}
	if p.AllowInsecure {
		return nil
	}
	return CheckSecure(cfg)
}

// FromSecret returns the client config of the Secret's kubeconfig if the
// policy accepts it.
func (p Policy) FromSecret(s *corev1.Secret) (*rest.Config, error) {
	cfg, err := FromSecret(s)
	if err != nil {
		return nil, err
	}
	if err := p.Check(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}
