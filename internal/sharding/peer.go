package sharding

import (
	"context"
	"fmt"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
	"strconv"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
)

// claim creates this replica's peer Lease. If it exists, claim watches it
// for a lease duration on the local clock: a Lease that changes belongs to
// a live process with the same identity (ErrDuplicateIdentity); one that
// does not is stale and taken over.
func (e *Elector) claim(ctx context.Context) error {
	name := shardlease.PeerLeaseName(e.id)
	for {
		start := time.Now()
		created, err := e.client.CoordinationV1().Leases(e.ns).Create(ctx, e.peerObject(nil, start, announcement{}), metav1.CreateOptions{})
		if err == nil {
			e.setPeer(created, start, true, announcement{})
			return nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create peer lease %s: %w", name, err)
		}
		// Compare versions from the informer only, so a lagging cache
		// cannot look like a renewal.
		var existing *coordinationv1.Lease
		if err := wait.PollUntilContextTimeout(ctx, e.opts.RetryPeriod/10, e.opts.LeaseDuration, true, func(context.Context) (bool, error) {
			existing, err = e.lister.Get(name)
			return err == nil, nil
		}); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Not in the cache: deleted meanwhile, or not labelled as a peer.
			_, gerr := e.client.CoordinationV1().Leases(e.ns).Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(gerr) {
				continue
			}
			return fmt.Errorf("lease %s in %s exists but is not labelled %s=%s; delete it or choose another identity", name, e.ns, shardlease.RoleLabel, shardlease.RolePeer)
		}
		wait := e.opts.LeaseDuration
		if d, err := shardlease.DurationOf(existing); err == nil && d > wait {
			wait = d
		}
		e.opts.Log.Info("peer lease exists; waiting to see whether another replica renews it", "lease", name, "wait", wait)
		deadline := time.Now().Add(wait)
		for time.Now().Before(deadline) {
			cur, err := e.lister.Get(name)
			if err == nil && cur.ResourceVersion != existing.ResourceVersion {
				return fmt.Errorf("%w: peer lease %s in %s is being renewed by another process; give each replica its own identity", ErrDuplicateIdentity, name, e.ns)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(e.opts.RetryPeriod / 10):
			}
		}
		start = time.Now()
		updated, err := e.client.CoordinationV1().Leases(e.ns).Update(ctx, e.peerObject(existing, start, announcement{}), metav1.UpdateOptions{})
		switch {
		case apierrors.IsConflict(err):
			return fmt.Errorf("%w: peer lease %s changed while taking it over", ErrDuplicateIdentity, name)
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			return fmt.Errorf("take over stale peer lease %s: %w", name, err)
		}
		e.setPeer(updated, start, true, announcement{})
		return nil
	}
}

func (e *Elector) peerObject(base *coordinationv1.Lease, now time.Time, a announcement) *coordinationv1.Lease {
	l := e.leaseObject(base, shardlease.PeerLeaseName(e.id), shardlease.RolePeer)
	l.Annotations[shardlease.IncarnationAnnotation] = e.incarnation
	a.apply(l.Annotations)
	l.Annotations[shardlease.WeightAnnotation] = strconv.FormatFloat(e.opts.Weight, 'g', -1, 64)
	if e.opts.FleetAddress != "" {
		l.Annotations[shardlease.FleetAddressAnnotation] = e.opts.FleetAddress
	}
	l.Spec.HolderIdentity = ptr.To(e.id)
	l.Spec.LeaseDurationSeconds = ptr.To(int32(e.opts.LeaseDuration / time.Second))
	l.Spec.RenewTime = &metav1.MicroTime{Time: now}
	if base == nil || shardlease.Holder(base) != e.id {
		l.Spec.AcquireTime = &metav1.MicroTime{Time: now}
	}
	return l
}

func (e *Elector) setPeer(l *coordinationv1.Lease, start time.Time, claimed bool, a announcement) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.peerLease = l
	e.announced = a
	e.peerValidUntil = start.Add(e.opts.RenewDeadline)
	e.claimed = e.claimed || claimed
}

// renewPeer renews the peer Lease when due, or at once when what it
// announces changed.
func (e *Elector) renewPeer(ctx context.Context) error { return e.writePeer(ctx, false) }

// announce writes the peer Lease only if what it announces changed.
func (e *Elector) announce(ctx context.Context) error { return e.writePeer(ctx, true) }

// writePeer renews the peer Lease when what it announces changed or,
// unless announcementOnly, when a renewal is due. A conflict means another
// process wrote our Lease, which only a duplicate identity does: that ends
// Run.
func (e *Elector) writePeer(ctx context.Context, announcementOnly bool) error {
	e.mu.Lock()
	base, validUntil := e.peerLease, e.peerValidUntil
	a := e.announcementLocked()
	due := a != e.announced || (!announcementOnly && e.renewalDue(validUntil, time.Now()))
	e.mu.Unlock()
	if !due {
		return nil
	}
	start := time.Now()
	l, err := e.update(ctx, e.renewalTimeout(validUntil, start), base, func(b *coordinationv1.Lease) *coordinationv1.Lease { return e.peerObject(b, start, a) },
		func(l *coordinationv1.Lease) bool {
			return l.Annotations[shardlease.IncarnationAnnotation] == e.incarnation
		})
	switch {
	case err == nil:
		e.setPeer(l, start, false, a)
		return nil
	case apierrors.IsConflict(err) || apierrors.IsNotFound(err):
		return fmt.Errorf("%w: peer lease %s was changed or deleted by someone else", ErrDuplicateIdentity, shardlease.PeerLeaseName(e.id))
	default:
		e.opts.Log.Info("cannot renew peer lease", "error", err.Error())
		return nil
	}
}

// deletePeer deletes the peer Lease if it is still the one we wrote.
func (e *Elector) deletePeer(ctx context.Context) {
	e.mu.Lock()
	l := e.peerLease
	e.mu.Unlock()
	if l == nil {
		return
	}
	err := e.client.CoordinationV1().Leases(e.ns).Delete(ctx, l.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &l.UID, ResourceVersion: &l.ResourceVersion},
	})
	if err != nil && !apierrors.IsNotFound(err) {
		e.opts.Log.Info("cannot delete peer lease", "error", err.Error())
	}
}

// leaseObject is a copy of base (or a new Lease) named name in the hub
// namespace, labelled with role and annotated with S.
func (e *Elector) leaseObject(base *coordinationv1.Lease, name, role string) *coordinationv1.Lease {
	l := &coordinationv1.Lease{}
	if base != nil {
		l = base.DeepCopy()
	}
	l.Name, l.Namespace = name, e.ns
	if l.Labels == nil {
		l.Labels = map[string]string{}
	}
	l.Labels[shardlease.RoleLabel] = role
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Annotations[shardlease.ShardsAnnotation] = strconv.Itoa(e.opts.Shards)
	return l
}
