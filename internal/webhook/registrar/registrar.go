// Package registrar registers the hub's validating webhook in every engaged
// member: a ValidatingWebhookConfiguration whose clientConfig.url is the
// hub's webhook endpoint and whose caBundle is the hub's current CA bundle.
// It re-applies the configuration whenever the bundle changes (rotation).
// A disabled Registrar removes a configuration left by an earlier hub, so
// turning the webhook off leaves nothing registered.
package registrar

import (
	"context"
	"errors"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
)

const (
	// Name is the ValidatingWebhookConfiguration the hub owns in members.
	Name = hubv1alpha1.WebhookConfigurationName
	// WebhookName is the webhook's name inside it.
	WebhookName = "validate.flinkdeployments.flink-hub.io"
	// FieldManager owns the applied fields.
	FieldManager = "flink-hub"
)

// Bundle is the CA bundle members must trust (a certs.Source).
type Bundle interface {
	// Watch returns the bundle and a channel closed when it changes.
	Watch() ([]byte, <-chan struct{})
}

// Options describe the registered webhook.
type Options struct {
	// URL is the hub's webhook endpoint as members reach it.
	URL string
	// FailurePolicy is Ignore or Fail.
	FailurePolicy admissionregistrationv1.FailurePolicyType
	// Timeout bounds one call, 1 to 30 seconds.
	Timeout time.Duration
	// RetryInterval is the wait after a failed apply (default 5 s).
	RetryInterval time.Duration
}

// Registrar is a multicluster.Aware runnable. Engage never blocks: the
// work runs until the engagement's context ends.
type Registrar struct {
	enabled bool
	opts    Options
	bundle  Bundle
}

// New returns a Registrar that registers the webhook described by opts with
// the CA bundle from bundle.
func New(bundle Bundle, opts Options) *Registrar {
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = 5 * time.Second
	}
	return &Registrar{enabled: true, opts: opts, bundle: bundle}
}

// NewDisabled returns a Registrar that only deletes the hub's
// configuration from members.
func NewDisabled() *Registrar { return &Registrar{opts: Options{RetryInterval: 5 * time.Second}} }

// Start implements manager.Runnable; the work happens per engagement.
func (r *Registrar) Start(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Engage implements multicluster.Aware.
func (r *Registrar) Engage(ctx context.Context, name multicluster.ClusterName, cl cluster.Cluster) error {
	cs, err := kubernetes.NewForConfig(cl.GetConfig())
	if err != nil {
		return err
	}
	hooks := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	logger := log.FromContext(ctx).WithValues("cluster", name)
	token := PathToken(string(name), cl.GetConfig())
	go func() {
		if !r.enabled {
			r.retry(ctx, func() error {
				err := hooks.Delete(ctx, Name, metav1.DeleteOptions{})
				if apierrors.IsForbidden(err) {
					// An identity registered without the webhook
					// permissions cannot have registered it either.
					logger.V(1).Info("may not remove a webhook configuration; assuming none", "error", err.Error())
					return nil
				}
				if apierrors.IsNotFound(err) {
					return nil
				}
				return err
			}, logger.Info)
			return
		}
		for {
			bundle, changed := r.bundle.Watch()
			if len(bundle) > 0 {
				r.retry(ctx, func() error {
					_, err := hooks.Apply(ctx, r.Configuration(string(name), token, bundle), metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
					if err != nil && token != "" {
						// A refusal may quote the URL: keep its token out of logs.
						return errors.New(strings.ReplaceAll(err.Error(), token, "<token>"))
					}
					return err
				}, logger.Info)
			}
			select {
			case <-ctx.Done():
				return
			case <-changed:
			}
		}
	}()
	return nil
}

// retry runs f until it succeeds or ctx ends.
func (r *Registrar) retry(ctx context.Context, f func() error, logf func(string, ...any)) {
	for {
		err := f()
		if err == nil || ctx.Err() != nil {
			return
		}
		logf("webhook registration failed; will retry", "error", err.Error())
		select {
		case <-ctx.Done():
			return
		case <-time.After(r.opts.RetryInterval):
		}
	}
}
