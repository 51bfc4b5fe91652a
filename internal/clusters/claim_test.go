package clusters_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters"
	"github.com/flink-hub/flink-hub/internal/clusters/claim"
	"github.com/flink-hub/flink-hub/internal/clusters/registration"
)

// engaged reports whether hub has the member engaged.
func engaged(hub *clusters.Hub, name string) bool {
	_, err := hub.Provider.Get(context.Background(), multicluster.ClusterName(name))
	return err == nil
}

// awaitEngaged waits until hub engaged member name: engagement follows the
// claim and the Ready condition, once every controller watches the member.
func awaitEngaged(t *testing.T, hub *clusters.Hub, name string) {
	t.Helper()
	eventually(t, 30*time.Second, name+" engaged", func() error {
		if !engaged(hub, name) {
			return errors.New("not engaged")
		}
		return nil
	})
}

// claimed waits until the MemberCluster's Claimed condition has status.
func claimed(t *testing.T, ns, name string, status metav1.ConditionStatus) *metav1.Condition {
	t.Helper()
	_, c := waitCondition(t, ns, name, hubv1alpha1.ConditionClaimed, status, "")
	return c
}

// TestMemberRegisteredTwiceIsManagedOnce registers one member three times
// as `cluster add` does: twice in one hub (two Secrets) and once in a
// second hub. Only the first registration engages the member; the others
// are not Ready, with reason Duplicate naming the holder, and never engage
// it, so no FlinkDeployment there is reconciled under two keys. When the
// first registration is removed, its claim is released and exactly one of
// the others takes the member over.
func TestMemberRegisteredTwiceIsManagedOnce(t *testing.T) {
	ctx := context.Background()
	member := fleet.Members[1]
	hubA := startHub(t, testOptions("claim-a"))
	hubB := startHub(t, testOptions("claim-b"))
	kubeconfig := hubKubeconfig(t, member)

	if err := fleet.Hub.Client.Create(ctx, memberSecret("claim-a", "first", kubeconfig)); err != nil {
		t.Fatal(err)
	}
	waitReady(t, "claim-a", "first", metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
	claimed(t, "claim-a", "first", metav1.ConditionTrue)
	awaitEngaged(t, hubA, "first")

	second := memberSecret("claim-a", "second", kubeconfig)
	other := memberSecret("claim-b", "other", kubeconfig)
	for _, s := range []*corev1.Secret{second, other} {
		if err := fleet.Hub.Client.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	for _, dup := range []struct {
		hub      *clusters.Hub
		ns, name string
	}{{hubA, "claim-a", "second"}, {hubB, "claim-b", "other"}} {
		mc := waitReady(t, dup.ns, dup.name, metav1.ConditionFalse, hubv1alpha1.ReasonDuplicate)
		c := meta.FindStatusCondition(mc.Status.Conditions, hubv1alpha1.ConditionClaimed)
		if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "claim-a/first") {
			t.Errorf("%s: Claimed %+v, want False naming the holder claim-a/first", dup.name, c)
		}
		if engaged(dup.hub, dup.name) {
			t.Errorf("the duplicate registration %s/%s is engaged", dup.ns, dup.name)
		}
	}
	// Several renewals later, still one registration engaged.
	renewals := time.Now().Add(3 * time.Second)
	eventually(t, 10*time.Second, "several claim renewals", func() error {
		if time.Now().Before(renewals) {
			return errors.New("waiting")
		}
		return nil
	})
	if !engaged(hubA, "first") || engaged(hubA, "second") || engaged(hubB, "other") {
		t.Fatalf("after renewals: first %v, second %v, other %v engaged; want only first", engaged(hubA, "first"), engaged(hubA, "second"), engaged(hubB, "other"))
	}

	checkTakeover(t, member, hubA, hubB)
}

// checkTakeover removes the registration claim-a/first, which holds
// member's claim: the claim is released, and exactly one of the duplicate
// registrations claim-a/second (of hubA) and claim-b/other (of hubB) takes
// the member over, the other naming it.
func checkTakeover(t *testing.T, member *framework.ControlPlane, hubA, hubB *clusters.Hub) {
	t.Helper()
	ctx := context.Background()
	if err := fleet.Hub.Client.Delete(ctx, memberSecret("claim-a", "first", nil)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "one registration takes the member over", func() error {
		switch a, b := engaged(hubA, "second"), engaged(hubB, "other"); {
		case a && b:
			t.Fatal("both remaining registrations engaged the member")
		case !a && !b:
			return errors.New("neither remaining registration engaged the member")
		}
		return nil
	})
	winner, loser := "claim-a/second", "claim-b/other"
	if engaged(hubB, "other") {
		winner, loser = loser, winner
	}
	ns, name, _ := strings.Cut(loser, "/")
	eventually(t, 30*time.Second, loser+" names the new holder "+winner, func() error {
		c, _, err := readyCondition(ctx, ns, name)
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionFalse || c.Reason != hubv1alpha1.ReasonDuplicate || !strings.Contains(c.Message, winner) {
			return fmt.Errorf("Ready=%s %s: %s", c.Status, c.Reason, c.Message)
		}
		return nil
	})
	var lease coordinationv1.Lease
	if err := member.Client.Get(ctx, client.ObjectKey{Namespace: claim.Namespace, Name: claim.LeaseName}, &lease); err != nil {
		t.Fatal(err)
	}
	if got := lease.Annotations[claim.RegistrationAnnotation]; got != winner {
		t.Errorf("the claim names %s after the takeover, want %s", got, winner)
	}
}

// TestStoppedHubsClaimLapses: a hub that stops renewing its claim (it
// crashed, or lost the member) leaves the member to a duplicate
// registration once the claim's duration passed on the duplicate's clock,
// and not before.
func TestStoppedHubsClaimLapses(t *testing.T) {
	ctx := context.Background()
	member := fleet.Members[2]
	kubeconfig := hubKubeconfig(t, member)
	optsA := testOptions("lapse-a")
	if err := fleet.Hub.CreateNamespace(ctx, optsA.Namespace); err != nil {
		t.Fatal(err)
	}
	hubA, stopA := launchHub(t, fleet.Hub.Config, optsA)
	if err := fleet.Hub.Client.Create(ctx, memberSecret("lapse-a", "m", kubeconfig)); err != nil {
		t.Fatal(err)
	}
	claimed(t, "lapse-a", "m", metav1.ConditionTrue)
	hubB := startHub(t, testOptions("lapse-b"))
	if err := fleet.Hub.Client.Create(ctx, memberSecret("lapse-b", "m", kubeconfig)); err != nil {
		t.Fatal(err)
	}
	waitReady(t, "lapse-b", "m", metav1.ConditionFalse, hubv1alpha1.ReasonDuplicate)
	awaitEngaged(t, hubA, "m")
	if engaged(hubB, "m") {
		t.Fatal("want only the first hub engaged")
	}

	stopA()
	stopped := time.Now()
	awaitEngaged(t, hubB, "m") // the second hub takes the member over
	// The first hub renewed at most a third of the duration before it
	// stopped.
	duration := testOptions("").ClaimDuration
	if took := time.Since(stopped); took < duration*2/3 {
		t.Errorf("the second hub took the member over %v after the first stopped: the claim (%v, renewed every third) had not lapsed", took, duration)
	}
	claimed(t, "lapse-b", "m", metav1.ConditionTrue)
}

// TestRegistrationWithoutClaimRightsIsEngaged: a member registered by an
// older `cluster add` (no right to the claim Lease) is still managed, and
// its MemberCluster says that a duplicate would go unnoticed and how to
// fix it.
func TestRegistrationWithoutClaimRightsIsEngaged(t *testing.T) {
	ctx := context.Background()
	member := fleet.Members[0]
	old := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "flink-hub-before-claims"}, Rules: registration.MemberRules(true)}
	if err := member.Client.Create(ctx, old); err != nil {
		t.Fatal(err)
	}
	hub := startHub(t, testOptions("no-claim-rights"))
	kubeconfig := serviceAccountKubeconfig(t, member, "before-claims", old.Name)
	if err := fleet.Hub.Client.Create(ctx, memberSecret("no-claim-rights", "m", kubeconfig)); err != nil {
		t.Fatal(err)
	}
	waitReady(t, "no-claim-rights", "m", metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
	c := claimed(t, "no-claim-rights", "m", metav1.ConditionUnknown)
	if c.Reason != claim.ReasonNotPermitted || !strings.Contains(c.Message, "cluster add") {
		t.Errorf("Claimed %s: %s, want %s saying to run cluster add", c.Reason, c.Message, claim.ReasonNotPermitted)
	}
	awaitEngaged(t, hub, "m")
}
