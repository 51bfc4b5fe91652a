// Package health probes member clusters and debounces their Ready state, so
// one slow probe does not flap the fleet.
package health

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/rest"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
)

// Result is the outcome of one probe.
type Result struct {
	// Ready is true when the member answered /readyz and authorized the hub.
	Ready bool
	// Reason is a MemberCluster Ready condition reason.
	Reason string
	// Message explains Reason; it never holds secret material.
	Message string
	// KubernetesVersion is the member's gitVersion, when it answered.
	KubernetesVersion string
}

// Prober probes one member.
type Prober interface {
	// Probe checks the member behind cfg within ctx's deadline; namespace
	// is one the hub watches there, "" when it watches all.
	Probe(ctx context.Context, cfg *rest.Config, namespace string) Result
}

// HTTPProber probes a member's apiserver over HTTP: /readyz, /version, and
// a one-item list of FlinkDeployments (in all namespaces, or in the one
// watched namespace given) to see that the hub's identity is authorized.
type HTTPProber struct {
	// Timeout bounds the whole probe.
	Timeout time.Duration
}

// flinkDeploymentsPath lists FlinkDeployments in namespace, or in all
// namespaces when it is empty.
func flinkDeploymentsPath(namespace string) string {
	if namespace == "" {
		return "/apis/flink.apache.org/v1beta1/flinkdeployments"
	}
	return "/apis/flink.apache.org/v1beta1/namespaces/" + url.PathEscape(namespace) + "/flinkdeployments"
}

// Probe implements Prober.
func (p HTTPProber) Probe(ctx context.Context, cfg *rest.Config, namespace string) Result {
	cfg = rest.CopyConfig(cfg)
	if p.Timeout > 0 {
		cfg.Timeout = p.Timeout
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Timeout)
		defer cancel()
	}
	// The probe has its own budget and must not wait on the member's
	// client-side rate limiter, which reconciles share.
	cfg.RateLimiter = nil
	cfg.QPS, cfg.Burst = -1, 0
	if cfg.GroupVersion == nil {
		cfg.GroupVersion = &hubv1alpha1.GroupVersion
	}
	if cfg.NegotiatedSerializer == nil {
		cfg.NegotiatedSerializer = rawSerializer
	}
	rc, err := rest.UnversionedRESTClientFor(cfg)
	if err != nil {
		return Result{Reason: hubv1alpha1.ReasonInvalidKubeconfig, Message: fmt.Sprintf("cannot build a client: %v", err)}
	}
	if _, err := rc.Get().AbsPath("/readyz").DoRaw(ctx); err != nil {
		return failure("readyz", err)
	}
	raw, err := rc.Get().AbsPath("/version").DoRaw(ctx)
	if err != nil {
		return failure("version", err)
	}
	var info version.Info
	if err := json.Unmarshal(raw, &info); err != nil {
		return Result{Reason: hubv1alpha1.ReasonUnreachable, Message: "the member's /version answer is not JSON"}
	}
	_, err = rc.Get().AbsPath(flinkDeploymentsPath(namespace)).Param("limit", "1").DoRaw(ctx)
	if err != nil && !apierrors.IsNotFound(err) { // NotFound: CRD not (yet) installed
		r := failure("list FlinkDeployments", err)
		r.KubernetesVersion = info.GitVersion
		return r
	}
	return Result{
		Ready:             true,
		Reason:            hubv1alpha1.ReasonReachable,
		Message:           "the member answered /readyz and authorized the hub",
		KubernetesVersion: info.GitVersion,
	}
}

// failure classifies a probe error: refused credentials are Forbidden,
// anything else Unreachable. client-go errors carry URLs and statuses,
// never credentials.
func failure(step string, err error) Result {
	switch {
	case apierrors.IsUnauthorized(err):
		return Result{Reason: hubv1alpha1.ReasonForbidden, Message: fmt.Sprintf("%s: the member refused the hub's credentials (401 Unauthorized)", step)}
	case apierrors.IsForbidden(err):
		return Result{Reason: hubv1alpha1.ReasonForbidden, Message: fmt.Sprintf("%s: the hub's identity is not allowed (403 Forbidden)", step)}
	default:
		return Result{Reason: hubv1alpha1.ReasonUnreachable, Message: fmt.Sprintf("%s: %v", step, err)}
	}
}
