// Package claim keeps each member cluster managed by one registration of
// one hub. The registration that manages a member holds a Lease in the
// member (the claim, kube-public/flink-hub-claim: one place per member
// cluster, whatever namespaces a registration uses). A second registration
// of the same member, by this hub under another name or by another hub,
// finds the claim held and stays disengaged, naming the holder, instead of
// reconciling every FlinkDeployment a second time under another key.
//
// Every replica of a hub checks and renews its registrations' claims (they
// share the holder identity, the Secret's UID); a foreign claim is judged
// expired on the local clock, a lease duration after this replica first saw
// its current resourceVersion, so clocks of other hubs do not matter.
package claim

import (
	"context"
	"fmt"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/utils/ptr"
)

const (
	// Namespace holds the claim in every member.
	Namespace = hubv1alpha1.ClaimNamespace
	// LeaseName is the claim's name.
	LeaseName = hubv1alpha1.ClaimLeaseName
	// RegistrationAnnotation on the claim names the holding registration
	// for people: <hub namespace>/<Secret name>.
	RegistrationAnnotation = hubv1alpha1.ClaimRegistrationAnnotation
	// DefaultDuration is how long a claim lasts unrenewed.
	DefaultDuration = time.Minute
)

// Reasons of a claim Outcome (the MemberCluster's Claimed condition).
const (
	// ReasonHeld: this registration holds the claim.
	ReasonHeld = "Held"
	// ReasonDuplicate: another registration holds the claim; this one is
	// not engaged.
	ReasonDuplicate = "Duplicate"
	// ReasonNotPermitted: the member identity may not hold the claim (a
	// registration by an older `cluster add`); the member is engaged, but
	// a second registration of it would not be noticed.
	ReasonNotPermitted = "NotPermitted"
	// ReasonUnknown: the claim could not be read or written (the member
	// does not answer).
	ReasonUnknown = "Unknown"
)

// Registration identifies one registration of one hub, the claim's holder.
type Registration struct {
	// UID is the member Secret's UID: every replica of the hub shares it,
	// another Secret or another hub has another.
	UID types.UID
	// Name is <hub namespace>/<Secret name>, for messages.
	Name string
}

// Outcome is the result of one Claim.
type Outcome struct {
	// Engage says whether the registration may manage the member.
	Engage bool
	// Reason and Message explain it.
	Reason, Message string
}

// Claims claims members for registrations. It is safe for concurrent use.
type Claims struct {
	duration time.Duration
	now      func() time.Time

	mu sync.Mutex
	// foreign is, per member, the resourceVersion of a claim held by
	// another registration and when this replica first saw it.
	foreign map[string]sighting
	// validUntil is, per member, until when this replica knows its claim
	// holds (the start of its last successful read or write + duration).
	validUntil map[string]time.Time
	outcomes   map[string]Outcome
}

type sighting struct {
	resourceVersion string
	since           time.Time
}

// New returns Claims whose claims last duration (DefaultDuration when
// zero) unrenewed.
func New(duration time.Duration) *Claims {
	if duration <= 0 {
		duration = DefaultDuration
	}
	return &Claims{duration: duration, now: time.Now, foreign: map[string]sighting{}, validUntil: map[string]time.Time{}, outcomes: map[string]Outcome{}}
}

// RenewInterval is how often a held claim is renewed: a third of the
// duration, so two renewals may fail before it lapses.
func (c *Claims) RenewInterval() time.Duration { return c.duration / 3 }

// Claim reads the member's claim and takes or renews it for reg. member
// names the member in this hub; leases is a client of the member.
func (c *Claims) Claim(ctx context.Context, member string, leases coordinationclient.LeasesGetter, reg Registration) Outcome {
	start := c.now()
	out := c.claim(ctx, member, leases.Leases(Namespace), reg, start)
	c.mu.Lock()
	defer c.mu.Unlock()
	if out.Reason == ReasonHeld {
		c.validUntil[member] = start.Add(c.duration)
	}
	if out.Reason == ReasonUnknown {
		// A claim not confirmed within its duration may be anybody's now.
		out.Engage = start.Before(c.validUntil[member])
	}
	c.outcomes[member] = out
	return out
}

func (c *Claims) claim(ctx context.Context, member string, leases coordinationclient.LeaseInterface, reg Registration, now time.Time) Outcome {
	l, err := leases.Get(ctx, LeaseName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = leases.Create(ctx, c.lease(&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: LeaseName, Namespace: Namespace}}, reg, now, true), metav1.CreateOptions{})
		return c.written(ctx, leases, err, reg)
	case err != nil:
		return c.failed(err)
	}
	holder := ptr.Deref(l.Spec.HolderIdentity, "")
	if holder == string(reg.UID) {
		c.forgetForeign(member)
		if renewed := l.Spec.RenewTime; renewed != nil && now.Sub(renewed.Time) < c.RenewInterval() && now.Sub(renewed.Time) > -c.RenewInterval() {
			return held(reg)
		}
		_, err = leases.Update(ctx, c.lease(l, reg, now, false), metav1.UpdateOptions{})
		return c.written(ctx, leases, err, reg)
	}
	if holder != "" && !c.expired(member, l.ResourceVersion, now) {
		return Outcome{Reason: ReasonDuplicate, Message: fmt.Sprintf(
			"this member is registered twice: registration %s (of this hub or another) holds its claim %s/%s, so this registration does not manage it; remove one of the two registrations (a claim that is not renewed lapses %v after its last renewal)",
			registrationOf(l), Namespace, LeaseName, c.duration)}
	}
	// Free, or its holder stopped renewing: take it over.
	_, err = leases.Update(ctx, c.lease(l, reg, now, true), metav1.UpdateOptions{})
	return c.written(ctx, leases, err, reg)
}

// lease is l held by reg, renewed at now (and acquired then when acquire).
func (c *Claims) lease(l *coordinationv1.Lease, reg Registration, now time.Time, acquire bool) *coordinationv1.Lease {
	l = l.DeepCopy()
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Annotations[RegistrationAnnotation] = reg.Name
	l.Spec.HolderIdentity = ptr.To(string(reg.UID))
	l.Spec.LeaseDurationSeconds = ptr.To(int32(c.duration / time.Second))
	t := metav1.NewMicroTime(now)
	l.Spec.RenewTime = &t
	if acquire {
		l.Spec.AcquireTime = &t
		if l.ResourceVersion != "" {
			l.Spec.LeaseTransitions = ptr.To(ptr.Deref(l.Spec.LeaseTransitions, 0) + 1)
		}
	}
	return l
}

// expired reports whether the foreign claim at resourceVersion has gone
// unrenewed for a duration, as this replica saw it.
func (c *Claims) expired(member, resourceVersion string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.foreign[member]
	if !ok || s.resourceVersion != resourceVersion {
		c.foreign[member] = sighting{resourceVersion: resourceVersion, since: now}
		return false
	}
	return now.Sub(s.since) >= c.duration
}

func (c *Claims) forgetForeign(member string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.foreign, member)
}

// written is the outcome of writing the claim for reg. A write that lost
// a race is followed by a read: every replica of the hub renews the claim
// on the same cadence, so the usual winner is another replica of this
// hub, and the claim is then held. Counting that as unknown until the
// next check left a replica that lost three races in a row (a third of
// the time, with three replicas) to disengage the member for a renewal
// interval or more.
func (c *Claims) written(ctx context.Context, leases coordinationclient.LeaseInterface, err error, reg Registration) Outcome {
	switch {
	case err == nil:
		return held(reg)
	case apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err):
		if l, gerr := leases.Get(ctx, LeaseName, metav1.GetOptions{}); gerr == nil && ptr.Deref(l.Spec.HolderIdentity, "") == string(reg.UID) {
			return held(reg)
		}
		// Another registration took it, or it cannot be read now: the
		// next check tells.
		return Outcome{Reason: ReasonUnknown, Message: "the claim changed while this replica wrote it; checking again"}
	}
	return c.failed(err)
}

func (c *Claims) failed(err error) Outcome {
	if apierrors.IsForbidden(err) {
		return Outcome{Engage: true, Reason: ReasonNotPermitted, Message: fmt.Sprintf(
			"the hub's identity may not hold the claim %s/%s, so a second registration of this member would go unnoticed: run `kubectl flinkhub cluster add` again to grant it", Namespace, LeaseName)}
	}
	return Outcome{Reason: ReasonUnknown, Message: fmt.Sprintf("cannot read or write the claim %s/%s: %v", Namespace, LeaseName, err)}
}

func held(reg Registration) Outcome {
	return Outcome{Engage: true, Reason: ReasonHeld, Message: fmt.Sprintf("registration %s holds the member's claim %s/%s", reg.Name, Namespace, LeaseName)}
}

func registrationOf(l *coordinationv1.Lease) string {
	if name := l.Annotations[RegistrationAnnotation]; name != "" {
		return name
	}
	return "holder " + ptr.Deref(l.Spec.HolderIdentity, "")
}

// Release gives reg's claim up, if it holds it: the registration was
// removed, and another one may manage the member at once.
func (c *Claims) Release(ctx context.Context, member string, leases coordinationclient.LeasesGetter, reg Registration) error {
	c.Forget(member)
	l, err := leases.Leases(Namespace).Get(ctx, LeaseName, metav1.GetOptions{})
	if err != nil || ptr.Deref(l.Spec.HolderIdentity, "") != string(reg.UID) {
		return client404(err)
	}
	err = leases.Leases(Namespace).Delete(ctx, LeaseName, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &l.ResourceVersion}})
	if apierrors.IsConflict(err) {
		return nil // renewed or taken meanwhile: not ours to delete
	}
	return client404(err)
}

func client404(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// Status returns the member's last outcome.
func (c *Claims) Status(member string) (Outcome, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, ok := c.outcomes[member]
	return out, ok
}

// Forget drops what is known of the member.
func (c *Claims) Forget(member string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.foreign, member)
	delete(c.validUntil, member)
	delete(c.outcomes, member)
}
