package claim

import (
	"context"
	"errors"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// TestForeignClaimExpiresOnTheLocalClock: a claim held by another
// registration counts as expired only once its resourceVersion has stayed
// the same for a whole duration as this replica saw it; a renewal (a new
// resourceVersion) starts the wait again, and the holder's own clock
// (renewTime) plays no part.
func TestForeignClaimExpiresOnTheLocalClock(t *testing.T) {
	start := time.Now()
	c := New(time.Minute)
	steps := []struct {
		after           time.Duration
		resourceVersion string
		want            bool
	}{
		{0, "1", false},
		{59 * time.Second, "1", false},
		{61 * time.Second, "2", false}, // renewed: wait again
		{100 * time.Second, "2", false},
		{121 * time.Second, "2", true},
		{122 * time.Second, "3", false}, // renewed after all
	}
	for _, s := range steps {
		if got := c.expired("m", s.resourceVersion, start.Add(s.after)); got != s.want {
			t.Errorf("after %v at resourceVersion %s: expired %v, want %v", s.after, s.resourceVersion, got, s.want)
		}
	}
	if c.expired("other", "1", start.Add(time.Hour)) {
		t.Error("a member first seen now is expired")
	}
}

func TestNewDefaultsAndRenewInterval(t *testing.T) {
	if got := New(0).RenewInterval(); got != DefaultDuration/3 {
		t.Errorf("RenewInterval of the default = %v, want %v", got, DefaultDuration/3)
	}
	if got := New(30 * time.Second).RenewInterval(); got != 10*time.Second {
		t.Errorf("RenewInterval = %v, want 10s", got)
	}
}

// TestLostRaceWithAnotherReplicaOfThisHubKeepsTheClaim: every renewal of
// this replica loses its race to another replica of the same hub (the
// write conflicts, and the claim then names this registration, renewed):
// the member stays engaged round after round, past the claim's duration.
func TestLostRaceWithAnotherReplicaOfThisHubKeepsTheClaim(t *testing.T) {
	reg := Registration{UID: "secret-uid", Name: "flink-hub/member-1"}
	long := metav1.NewMicroTime(time.Now().Add(-time.Hour))
	cs := fake.NewClientset(&coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: LeaseName, Namespace: Namespace},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To(string(reg.UID)), LeaseDurationSeconds: ptr.To(int32(60)), RenewTime: &long},
	})
	leases := schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}
	races := 0
	cs.PrependReactor("update", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		races++
		// The other replica's renewal lands first.
		theirs := a.(k8stesting.UpdateAction).GetObject().(*coordinationv1.Lease).DeepCopy()
		if err := cs.Tracker().Update(leases, theirs, Namespace); err != nil {
			return true, nil, err
		}
		return true, nil, apierrors.NewConflict(leases.GroupResource(), LeaseName, errors.New("the object has been modified"))
	})
	c := New(time.Minute)
	now := time.Now()
	c.now = func() time.Time { return now }
	for round := 1; round <= 5; round++ {
		now = now.Add(c.RenewInterval() + time.Second) // a renewal is due every round
		out := c.Claim(context.Background(), "member-1", cs.CoordinationV1(), reg)
		if !out.Engage || out.Reason != ReasonHeld {
			t.Fatalf("round %d: %+v, want the claim held and the member engaged", round, out)
		}
	}
	if races != 5 {
		t.Fatalf("%d renewals raced, want 5 (one per round)", races)
	}
}
