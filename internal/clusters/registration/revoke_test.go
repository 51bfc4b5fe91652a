package registration_test

import (
	"context"
	"slices"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/internal/clusters/claim"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
	"github.com/flink-hub/flink-hub/internal/clusters/registration"
)

// TestRevokeReleasesTheClaimOfThisRegistrationOnly: the hub's identity
// takes the member's claim as registration holder; revoking registration
// flink-hub/m1 deletes the claim when it is m1's (the hub, its identity
// revoked, could not), and leaves the claim of any other registration.
func TestRevokeReleasesTheClaimOfThisRegistrationOnly(t *testing.T) {
	ctx := context.Background()
	cp := controlPlane(t)
	key := client.ObjectKey{Namespace: hubv1alpha1.ClaimNamespace, Name: hubv1alpha1.ClaimLeaseName}
	cases := []struct {
		holder   string // "": no claim
		released bool
	}{
		{"flink-hub/m1", true},
		{"flink-hub/m2", false},
		{"other-hub/m1", false},
		{"", false},
	}
	for _, tc := range cases {
		o := registration.Options{Name: "m1", HubNamespace: "flink-hub"}
		r := &registration.Registrar{Member: cp.Config, MemberClient: cp.Client}
		kubeconfig, err := r.Identity(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if tc.holder != "" {
			cfg, err := memberconfig.Parse(kubeconfig)
			if err != nil {
				t.Fatal(err)
			}
			reg := claim.Registration{UID: types.UID("uid-" + tc.holder), Name: tc.holder}
			if out := claim.New(time.Minute).Claim(ctx, "m1", kubernetes.NewForConfigOrDie(cfg).CoordinationV1(), reg); out.Reason != claim.ReasonHeld {
				t.Fatalf("holder %q: the hub identity did not take the claim: %+v", tc.holder, out)
			}
		}
		deleted, err := registration.RevokeMember(ctx, cp.Client, o)
		if err != nil {
			t.Fatalf("holder %q: %v", tc.holder, err)
		}
		lease := &coordinationv1.Lease{}
		err = cp.Client.Get(ctx, key, lease)
		if gone := apierrors.IsNotFound(err); gone != (tc.released || tc.holder == "") {
			t.Errorf("holder %q: claim gone=%v (%v), want released=%v", tc.holder, gone, err, tc.released)
		}
		if said := slices.Contains(deleted, "Lease "+key.String()); said != tc.released {
			t.Errorf("holder %q: RevokeMember reported %q", tc.holder, deleted)
		}
		if err == nil { // the next case starts without a claim
			if err := cp.Client.Delete(ctx, lease); err != nil {
				t.Fatal(err)
			}
		}
	}
}
