package sharding

import (
	"context"
	"errors"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestPeerRenewalAfterALostAnswer: a peer renewal whose answer was lost
// landed, so the next one conflicts. Only a fresh read that shows another
// writer makes that a duplicate identity (which ends the replica); a fresh
// read that fails too (an overloaded hub apiserver) is a transient error,
// and a fresh read that shows our own write is renewed over.
func TestPeerRenewalAfterALostAnswer(t *testing.T) {
	leases := schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}
	for _, tc := range []struct {
		name string
		// get answers the read after the conflict.
		get           func(ours *coordinationv1.Lease) (*coordinationv1.Lease, error)
		wantDuplicate bool
		wantRenewed   bool
	}{
		{"the read fails", func(*coordinationv1.Lease) (*coordinationv1.Lease, error) {
			return nil, apierrors.NewTimeoutError("the hub apiserver is overloaded", 1)
		}, false, false},
		{"our own write", func(ours *coordinationv1.Lease) (*coordinationv1.Lease, error) {
			l := ours.DeepCopy()
			l.ResourceVersion = "2"
			return l, nil
		}, false, true},
		{"another process wrote it", func(ours *coordinationv1.Lease) (*coordinationv1.Lease, error) {
			l := ours.DeepCopy()
			l.ResourceVersion = "2"
			l.Annotations[shardlease.IncarnationAnnotation] = "another"
			return l, nil
		}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset()
			e, err := New(cs, "flink-hub", "hub-0", WithTimings(4*time.Second, 2*time.Second, 500*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			ours := e.peerObject(nil, time.Now().Add(-time.Minute), announcement{})
			ours.ResourceVersion = "1"
			e.setPeer(ours, time.Now().Add(-time.Minute), true, announcement{})
			updates := 0
			cs.PrependReactor("update", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
				updates++
				l := a.(k8stesting.UpdateAction).GetObject().(*coordinationv1.Lease)
				if l.ResourceVersion != "2" {
					return true, nil, apierrors.NewConflict(leases, l.Name, errors.New("the object has been modified"))
				}
				l = l.DeepCopy()
				l.ResourceVersion = "3"
				return true, l, nil
			})
			cs.PrependReactor("get", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
				l, err := tc.get(ours)
				if err != nil {
					return true, nil, err
				}
				return true, l, nil
			})

			err = e.renewPeer(context.Background())
			if got := errors.Is(err, ErrDuplicateIdentity); got != tc.wantDuplicate {
				t.Fatalf("renewPeer = %v; duplicate identity %v, want %v", err, got, tc.wantDuplicate)
			}
			renewed := e.peerLease.ResourceVersion == "3"
			if renewed != tc.wantRenewed {
				t.Errorf("renewed %v (after %d updates), want %v", renewed, updates, tc.wantRenewed)
			}
		})
	}
}
