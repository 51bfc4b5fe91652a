// Package memberstatus is the hub controller that keeps one MemberCluster
// per member kubeconfig Secret: it probes the member on an interval,
// debounces the result, and writes the MemberCluster status; it deletes the
// MemberCluster when the Secret goes away or loses its label.
package memberstatus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/internal/boundedtext"
	"github.com/flink-hub/flink-hub/internal/clusters/claim"
	"github.com/flink-hub/flink-hub/internal/clusters/crdinstall"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
	"github.com/flink-hub/flink-hub/internal/clusters/health"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// CRDStatuses reports the CRD install outcome per member.
type CRDStatuses interface {
	Status(member string) (crdinstall.Status, bool)
}

// Claims reports each member's claim (package claim).
type Claims interface {
	Status(member string) (claim.Outcome, bool)
}

// Engagements report whether the hub's controllers watch each member.
type Engagements interface {
	Engaged(member string) (engaged bool, message string, known bool)
}

// Reconciler writes MemberCluster status from probes of the members.
type Reconciler struct {
	// Client is the hub client.
	Client client.Client
	// Namespace is the hub namespace holding the member Secrets.
	Namespace string
	// Prober probes a member.
	Prober health.Prober
	// Debouncer holds each member's reported health.
	Debouncer *health.Debouncer
	// Interval is the time between probes of one member.
	Interval time.Duration
	// ReportEvery is how long the status goes unwritten while probes find
	// nothing new (writeDue); 0 writes every probe.
	ReportEvery time.Duration
	// CRDs reports CRD installs; optional.
	CRDs CRDStatuses
	// Claims reports the members' claims; optional.
	Claims Claims
	// Engagements report this replica's engagements of the members (the
	// Engaged condition); optional.
	Engagements Engagements
	// Kinds say whether this replica may read the optional kinds, and the
	// kinds whose informers were refused, in the members it engaged (the
	// KindsReadable condition); optional.
	Kinds KindAccess
	// Owns, when set, says whether this replica writes the member's
	// status: the one replica that owns ShardKey(member) in the sharded
	// election, so that a member's status has one writer and one
	// debouncer. The others index what it wrote. Nil: this replica writes
	// every member's status.
	Owns func(member string) bool
	// OnOwnershipGained, when set with Owns, registers fn, to be called
	// (without blocking) every time this replica may have begun to own
	// members (a shard acquired). The members this replica does not own
	// are then looked at only on events: their Secret changing, their
	// MemberCluster's status written by its owner (indexed here), and
	// fn. Without it they are looked at every Interval, so that a
	// replica finds the members it came to own.
	OnOwnershipGained func(fn func())
	// Index receives the member rows and provides deployment counts.
	Index *fleetindex.Index
	// Recorder receives an event on every change of Ready; optional.
	Recorder events.EventRecorder
	// Policy says which kubeconfigs are refused (reported, not probed).
	Policy memberconfig.Policy
	// TokenWarning is how long before its expiry a member's token is
	// reported by TokenExpiring; a week when zero.
	TokenWarning time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	// configs are the member Secrets' kubeconfigs as Policy read them.
	configs parsedConfigs
}

// ShardKey is the sharding key of a member's MemberCluster status.
func ShardKey(member string) string { return "MemberCluster/" + member }

// DefaultTokenWarning is the default of Reconciler.TokenWarning.
const DefaultTokenWarning = 7 * 24 * time.Hour

// SetupWithManager registers the controller with the hub manager.
func (r *Reconciler) SetupWithManager(mgr manager.Manager, workers int) error {
	inNamespace := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetNamespace() == r.Namespace })
	b := ctrl.ControllerManagedBy(mgr).
		Named("membercluster-status").
		For(&corev1.Secret{}, ctrl.WithPredicates(inNamespace)).
		// The owner's status writes must not re-trigger its probe;
		// deletions must, and another replica's writes reach the fleet
		// index of the replicas that do not own the member.
		Owns(&hubv1alpha1.MemberCluster{}, ctrl.WithPredicates(predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, reportedElsewhere(r.Owns)))).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers})
	if r.Owns != nil && r.OnOwnershipGained != nil {
		b = b.WatchesRawSource(r.ownershipGained())
	}
	return b.Complete(r)
}

// pollsUnowned reports whether the members this replica does not own are
// looked at every Interval (no OnOwnershipGained to say when to look).
func (r *Reconciler) pollsUnowned() bool { return r.OnOwnershipGained == nil }

// Reconcile implements reconcile.Reconciler for a Secret of the hub
// namespace. An error caused by the manager stopping is not reported: the
// next start probes again.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	result, err := r.reconcile(ctx, req)
	if err != nil && ctx.Err() != nil {
		return reconcile.Result{}, nil
	}
	return result, err
}

func (r *Reconciler) reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var secret corev1.Secret
	err := r.Client.Get(ctx, req.NamespacedName, &secret)
	if client.IgnoreNotFound(err) != nil {
		return reconcile.Result{}, err
	}
	if apierrors.IsNotFound(err) || !secret.DeletionTimestamp.IsZero() || !memberconfig.IsMember(&secret) {
		return reconcile.Result{}, r.forget(ctx, req.NamespacedName)
	}

	mc, have, err := r.ensureMemberCluster(ctx, &secret)
	if err != nil {
		return reconcile.Result{}, err
	}
	if !have {
		// Another replica created it after this replica's cache was read;
		// its create event brings the Secret back once the cache has it.
		return reconcile.Result{}, nil
	}
	if r.Owns != nil && !r.Owns(mc.Name) {
		// Another replica writes it. Should this one own it later, its
		// debouncer starts from what is reported, not from nothing.
		r.Debouncer.Forget(mc.Name)
		r.configs.forget(secret.Name)
		r.indexReported(mc)
		if !r.pollsUnowned() {
			return reconcile.Result{}, nil
		}
		return reconcile.Result{RequeueAfter: r.Interval}, nil
	}
	r.Debouncer.Seed(mc.Name, revision(&secret), reported(mc))
	result, cfg, now := r.observe(ctx, &secret)
	before := mc.DeepCopy()
	r.writeStatus(mc, result, cfg, now)
	if r.Claims != nil {
		if out, ok := r.Claims.Status(mc.Name); ok {
			setClaimConditions(mc, out)
		}
	}
	setRulesCondition(mc, &secret)
	r.writeKindsReadable(ctx, mc)
	if !writeDue(&before.Status, &mc.Status, now, r.ReportEvery) {
		mc.Status.LastProbeTime = before.Status.LastProbeTime
		r.indexReported(mc)
		return reconcile.Result{RequeueAfter: r.Interval}, nil
	}
	r.indexReported(mc)
	// Optimistic: a write of a replica that owned the member a moment ago
	// does not overwrite the new owner's.
	if err := r.Client.Status().Patch(ctx, mc, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return reconcile.Result{}, fmt.Errorf("update MemberCluster status: %w", err)
	}
	r.recordTransition(before, mc)
	return reconcile.Result{RequeueAfter: r.Interval}, nil
}

// maxNote bounds the condition message an event note quotes: the
// apiserver refuses notes beyond problem.MaxEventNote, "Ready=False: "
// included.
const maxNote = problem.MaxEventNote - 16

// recordTransition emits an event when the Ready status changed, and a
// Warning when the token starts expiring.
func (r *Reconciler) recordTransition(before, after *hubv1alpha1.MemberCluster) {
	if r.Recorder == nil {
		return
	}
	if now := changed(before, after, hubv1alpha1.ConditionReady); now != nil {
		eventType := corev1.EventTypeWarning
		if now.Status == metav1.ConditionTrue {
			eventType = corev1.EventTypeNormal
		}
		r.Recorder.Eventf(after, nil, eventType, now.Reason, "Probe", "Ready=%s: %s", now.Status, boundedtext.Cut(now.Message, maxNote))
	}
	if now := changed(before, after, hubv1alpha1.ConditionTokenExpiring); now != nil && now.Status == metav1.ConditionTrue {
		r.Recorder.Eventf(after, nil, corev1.EventTypeWarning, now.Reason, "Probe", "%s", boundedtext.Cut(now.Message, maxNote))
	}
	if now := changed(before, after, hubv1alpha1.ConditionEngaged); now != nil && now.Status == metav1.ConditionFalse {
		r.Recorder.Eventf(after, nil, corev1.EventTypeWarning, now.Reason, "Engage", "%s", boundedtext.Cut(now.Message, maxNote))
	}
	if now := changed(before, after, hubv1alpha1.ConditionClaimed); now != nil && now.Status == metav1.ConditionFalse {
		r.Recorder.Eventf(after, nil, corev1.EventTypeWarning, now.Reason, "Claim", "%s", boundedtext.Cut(now.Message, maxNote))
	}
	for _, t := range []string{hubv1alpha1.ConditionRulesCurrent, hubv1alpha1.ConditionKindsReadable} {
		if now := changed(before, after, t); now != nil && now.Status == metav1.ConditionFalse {
			r.Recorder.Eventf(after, nil, corev1.EventTypeWarning, now.Reason, "Probe", "%s", boundedtext.Cut(now.Message, maxNote))
		}
	}
}

// changed returns the condition of type t after the write if its status
// differs from before's.
func changed(before, after *hubv1alpha1.MemberCluster, t string) *metav1.Condition {
	was := meta.FindStatusCondition(before.Status.Conditions, t)
	now := meta.FindStatusCondition(after.Status.Conditions, t)
	if now == nil || (was != nil && was.Status == now.Status) {
		return nil
	}
	return now
}

// observe returns the debounced health of the Secret's member, its client
// config (nil when refused), and the time of the observation: when the
// probe's answer was known, so that the debounce window never starts
// before the failure did. A refused kubeconfig is never probed.
func (r *Reconciler) observe(ctx context.Context, secret *corev1.Secret) (health.Result, *rest.Config, time.Time) {
	cfg, err := r.configs.get(r.Policy, secret)
	if err != nil {
		// Unusable configuration is not a flap: report it at once.
		r.Debouncer.Forget(secret.Name)
		reason := hubv1alpha1.ReasonInvalidKubeconfig
		if memberconfig.IsInsecure(err) {
			reason = hubv1alpha1.ReasonInsecureKubeconfig
		}
		return health.Result{Reason: reason, Message: err.Error()}, nil, r.now()
	}
	namespaces, err := memberconfig.Namespaces(secret)
	if err != nil {
		r.Debouncer.Forget(secret.Name)
		return health.Result{Reason: hubv1alpha1.ReasonInvalidKubeconfig, Message: memberconfig.NamespacesAnnotation + ": " + err.Error()}, nil, r.now()
	}
	var probeNamespace string // every namespace
	if len(namespaces) > 0 {
		probeNamespace = namespaces[0]
	}
	probed := r.Prober.Probe(ctx, cfg, probeNamespace)
	now := r.now()
	return r.Debouncer.Observe(secret.Name, revision(secret), probed, now), cfg, now
}

func (r *Reconciler) writeStatus(mc *hubv1alpha1.MemberCluster, h health.Result, cfg *rest.Config, now time.Time) {
	st := &mc.Status
	ready := metav1.ConditionFalse
	if h.Ready {
		ready = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type: hubv1alpha1.ConditionReady, Status: ready, Reason: h.Reason, Message: boundedtext.Cut(h.Message, problem.MaxConditionMessage), ObservedGeneration: mc.Generation,
	})
	if r.CRDs != nil {
		if crd, ok := r.CRDs.Status(mc.Name); ok {
			status := metav1.ConditionFalse
			if crd.Reason == hubv1alpha1.ReasonInstalled {
				status = metav1.ConditionTrue
			}
			meta.SetStatusCondition(&st.Conditions, metav1.Condition{
				Type: hubv1alpha1.ConditionCRDInstalled, Status: status, Reason: crd.Reason, Message: crd.Message, ObservedGeneration: mc.Generation,
			})
		}
	}
	r.writeEngaged(mc)
	if h.KubernetesVersion != "" {
		st.KubernetesVersion = h.KubernetesVersion
	}
	if cfg != nil {
		st.Server = cfg.Host
	}
	r.writeTokenExpiry(mc, cfg, now)
	st.LastProbeTime = &metav1.Time{Time: now}
	st.FlinkDeployments = int32(r.Index.CountDeployments(mc.Name))
}

// ensureMemberCluster returns the Secret's MemberCluster, creating it owned
// by the Secret. have is false when the MemberCluster exists but the
// cache does not have it yet: every replica runs this controller, and all
// of them see a new Secret at once.
//
// The owner reference does not block the owner's deletion: setting
// blockOwnerDeletion needs update on secrets/finalizers where the
// apiserver enforces owner-reference permissions, and would only make a
// foreground deletion of the Secret wait for the MemberCluster, which the
// hub deletes itself when the Secret goes (and the garbage collector
// deletes anyway).
func (r *Reconciler) ensureMemberCluster(ctx context.Context, secret *corev1.Secret) (mc *hubv1alpha1.MemberCluster, have bool, err error) {
	mc = &hubv1alpha1.MemberCluster{}
	err = r.Client.Get(ctx, client.ObjectKeyFromObject(secret), mc)
	if err == nil {
		return mc, true, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, false, err
	}
	mc = &hubv1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: secret.Name, Namespace: secret.Namespace}}
	if err := controllerutil.SetControllerReference(secret, mc, r.Client.Scheme(), controllerutil.WithBlockOwnerDeletion(false)); err != nil {
		return nil, false, err
	}
	switch err := r.Client.Create(ctx, mc); {
	case apierrors.IsAlreadyExists(err):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("create MemberCluster: %w", err)
	}
	return mc, true, nil
}

// forget deletes the member's MemberCluster and its rows.
func (r *Reconciler) forget(ctx context.Context, key client.ObjectKey) error {
	r.Debouncer.Forget(key.Name)
	r.configs.forget(key.Name)
	r.Index.DeleteCluster(key.Name)
	mc := &hubv1alpha1.MemberCluster{}
	if err := r.Client.Get(ctx, key, mc); err != nil {
		return client.IgnoreNotFound(err)
	}
	return client.IgnoreNotFound(r.Client.Delete(ctx, mc))
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// revision identifies the Secret's credentials without revealing them.
func revision(s *corev1.Secret) string {
	sum := sha256.Sum256(s.Data[memberconfig.SecretKey])
	return hex.EncodeToString(sum[:])
}

// writeEngaged sets the Engaged condition from the member's last
// engagement, and drops it while none was tried.
func (r *Reconciler) writeEngaged(mc *hubv1alpha1.MemberCluster) {
	if r.Engagements == nil {
		return
	}
	engaged, message, known := r.Engagements.Engaged(mc.Name)
	if !known {
		meta.RemoveStatusCondition(&mc.Status.Conditions, hubv1alpha1.ConditionEngaged)
		return
	}
	meta.SetStatusCondition(&mc.Status.Conditions, engagedCondition(engaged, message, mc.Generation))
}

// engagedCondition is the Engaged condition of an engagement's outcome.
func engagedCondition(engaged bool, message string, generation int64) metav1.Condition {
	c := metav1.Condition{Type: hubv1alpha1.ConditionEngaged, ObservedGeneration: generation}
	if engaged {
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, hubv1alpha1.ReasonEngaged, "the hub watches the member's FlinkDeployments and FlinkSessionJobs"
		return c
	}
	c.Status, c.Reason, c.Message = metav1.ConditionFalse, hubv1alpha1.ReasonEngageFailed, message
	return c
}
