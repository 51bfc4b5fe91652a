package defaults

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// Reconciler keeps a Store in step with the default ConfigMaps of the hub
// namespace. Every replica runs it: each reconciles with the defaults it
// read. A ConfigMap that cannot be read is left out, with a Warning event
// on it.
type Reconciler struct {
	// Client reads the hub namespace.
	Client client.Client
	// Namespace is the hub namespace.
	Namespace string
	// Store receives the defaults.
	Store *Store
	// Recorder receives the Warning of an unreadable ConfigMap; optional.
	Recorder events.EventRecorder
	// OnChange, when set, hears the members whose defaults changed (""
	// meaning every member), to reconcile their resources at once.
	OnChange func(members []string)
}

// changed tells OnChange about members.
func (r *Reconciler) changed(members []string) {
	if r.OnChange != nil && len(members) > 0 {
		r.OnChange(members)
	}
}

// SetupWithManager watches the labelled ConfigMaps of the hub namespace
// with mgr (the hub's local manager).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.Add(loader{r}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).Named("defaults").
		For(&corev1.ConfigMap{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(obj client.Object) bool {
			return obj.GetNamespace() == r.Namespace && obj.GetLabels()[Label] == "true"
		}))).
		Complete(r)
}

// Reconcile reads one default ConfigMap into the Store.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	cm := &corev1.ConfigMap{}
	if err := r.Client.Get(ctx, req.NamespacedName, cm); err != nil {
		if apierrors.IsNotFound(err) {
			r.changed(r.Store.Delete(req.Name))
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if cm.Labels[Label] != "true" || !cm.DeletionTimestamp.IsZero() {
		r.changed(r.Store.Delete(req.Name))
		return ctrl.Result{}, nil
	}
	r.changed(r.read(ctx, cm))
	return ctrl.Result{}, nil
}

// read puts cm's configuration into the Store, or leaves cm out with a
// Warning when it cannot be read, and returns the members whose defaults
// changed.
func (r *Reconciler) read(ctx context.Context, cm *corev1.ConfigMap) []string {
	member, conf, err := Parse(cm)
	if err != nil {
		r.warn(ctx, cm, "InvalidDefaults", "default configuration left out: %v", err)
		return r.Store.Delete(cm.Name)
	}
	origins, err := HeaderOrigins(cm)
	if err != nil {
		r.warn(ctx, cm, "InvalidArtifactHeaderOrigins", "the default jar fetch header is sent to no origin: %v", err)
	} else if _, header := conf[flinkconf.KeyArtifactHTTPHeader]; header && len(origins) == 0 {
		r.warn(ctx, cm, "ArtifactHeaderUnscoped", "the default %s is sent to no origin: name its origins in %s", flinkconf.KeyArtifactHTTPHeader, HeaderOriginsKey)
	}
	return r.Store.Set(cm.Name, member, conf, origins...)
}

// warn logs and records a Warning event on cm.
func (r *Reconciler) warn(ctx context.Context, cm *corev1.ConfigMap, reason, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	log.FromContext(ctx).Info("default configuration warning", "configmap", cm.Name, "reason", reason, "message", msg)
	if r.Recorder != nil {
		r.Recorder.Eventf(cm, nil, corev1.EventTypeWarning, reason, "Read", "%s", msg)
	}
}

// Load reads every default ConfigMap of the hub namespace into the Store
// and marks it loaded (Store.Loaded), retrying every retry until it can
// list them or ctx ends. The Reconciler reads each ConfigMap as it changes,
// but nothing tells when it has read them all; until Load is done, the
// Store's users wait rather than merge part of the defaults.
func (r *Reconciler) Load(ctx context.Context, retry time.Duration) error {
	for {
		var list corev1.ConfigMapList
		err := r.Client.List(ctx, &list, client.InNamespace(r.Namespace), client.MatchingLabels{Label: "true"})
		if err == nil {
			for i := range list.Items {
				if list.Items[i].DeletionTimestamp.IsZero() {
					r.changed(r.read(ctx, &list.Items[i]))
				}
			}
			r.Store.Loaded()
			return nil
		}
		log.FromContext(ctx).Info("cannot list the default configuration, retrying", "error", err.Error())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retry):
		}
	}
}

// loader runs Load on every replica, leader or not.
type loader struct{ r *Reconciler }

func (l loader) Start(ctx context.Context) error { return l.r.Load(ctx, time.Second) }

func (l loader) NeedLeaderElection() bool { return false }
