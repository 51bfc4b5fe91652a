// Package memberconfig turns a member's kubeconfig Secret into a client
// config, with errors that are safe to show: they name what is wrong, never
// the data (YAML errors can quote the document, so they are not passed on).
package memberconfig

import (
	"errors"
	"fmt"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/flowcontrol"
)

const (
	// SecretLabel marks a hub Secret as a member registration; its value must
	// be "true".
	SecretLabel = hubv1alpha1.MemberSecretLabel
	// SecretKey is the Secret data key holding the kubeconfig.
	SecretKey = hubv1alpha1.MemberSecretKey
)

// InvalidError says why a kubeconfig cannot be used. Its message contains no
// secret material.
type InvalidError struct{ reason string }

func (e *InvalidError) Error() string { return e.reason }

func invalid(format string, args ...any) error {
	return &InvalidError{reason: fmt.Sprintf(format, args...)}
}

// IsInvalid reports whether err (or an error it wraps) is an InvalidError.
func IsInvalid(err error) bool {
	var ie *InvalidError
	return errors.As(err, &ie)
}

// AdoptBefore reads the Secret's adoption time (AdoptBeforeAnnotation);
// zero when it has none or it cannot be read.
func AdoptBefore(s *corev1.Secret) time.Time {
	t, err := time.Parse(time.RFC3339, s.Annotations[hubv1alpha1.AdoptBeforeAnnotation])
	if err != nil {
		return time.Time{}
	}
	return t
}

// IsMember reports whether a Secret carries the member registration label.
func IsMember(s *corev1.Secret) bool { return s.Labels[SecretLabel] == "true" }

// FromSecret returns the client config of the Secret's kubeconfig.
func FromSecret(s *corev1.Secret) (*rest.Config, error) {
	data, ok := s.Data[SecretKey]
	if !ok || len(data) == 0 {
		return nil, invalid("secret has no %q key", SecretKey)
	}
	return Parse(data)
}

// Parse returns the client config of a kubeconfig's current context. Every
// error it returns is an InvalidError.
func Parse(data []byte) (*rest.Config, error) {
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return nil, invalid("kubeconfig is not a valid kubeconfig YAML document")
	}
	if cfg.CurrentContext == "" {
		return nil, invalid("kubeconfig has no current-context")
	}
	kctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return nil, invalid("kubeconfig's current-context %q is not defined", cfg.CurrentContext)
	}
	cluster, ok := cfg.Clusters[kctx.Cluster]
	if !ok {
		return nil, invalid("kubeconfig's context %q names an undefined cluster %q", cfg.CurrentContext, kctx.Cluster)
	}
	if cluster.Server == "" {
		return nil, invalid("kubeconfig's cluster %q has no server", kctx.Cluster)
	}
	if _, ok := cfg.AuthInfos[kctx.AuthInfo]; !ok {
		return nil, invalid("kubeconfig's context %q names an undefined user %q", cfg.CurrentContext, kctx.AuthInfo)
	}
	restCfg, err := clientcmd.NewDefaultClientConfig(*cfg, nil).ClientConfig()
	if err != nil {
		// clientcmd's validation errors name fields and files, never values.
		return nil, invalid("kubeconfig is not usable: %v", err)
	}
	if err := CheckSelfContained(restCfg); err != nil {
		return nil, err
	}
	return restCfg, nil
}

// CheckSelfContained refuses a client config that would make the hub run a
// program (exec credential plugins, auth providers) or read its own files
// (certificate, key, CA or token paths): a member Secret must carry its
// credentials inline, or anyone who can write a Secret in the hub
// namespace could run commands or read files as the hub. The error is an
// InvalidError.
func CheckSelfContained(cfg *rest.Config) error {
	switch {
	case cfg.ExecProvider != nil:
		return invalid("kubeconfig uses an exec credential plugin; member kubeconfigs must embed their credentials")
	case cfg.AuthProvider != nil:
		return invalid("kubeconfig uses an auth provider; member kubeconfigs must embed their credentials")
	case cfg.CertFile != "" || cfg.KeyFile != "" || cfg.CAFile != "" || cfg.BearerTokenFile != "":
		return invalid("kubeconfig refers to files; member kubeconfigs must embed certificates, keys and tokens")
	}
	return nil
}

// RateLimit makes qps and burst the client-side limit of everything built
// from cfg and its copies: one token bucket for the member. With only
// QPS and Burst set, every REST client gets a bucket of its own, and
// controller-runtime builds one REST client per resource type, so a
// member would see the limit once per type.
func RateLimit(cfg *rest.Config, qps float32, burst int) {
	cfg.QPS, cfg.Burst = qps, burst
	cfg.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(qps, burst)
}
