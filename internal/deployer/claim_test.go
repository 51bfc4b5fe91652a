package deployer_test

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/deployer"
)

// TestClaimGuardsTheApply: against a real apiserver (whose refusal of
// an apply by UID is what Claim relies on), an apply prepared by Claim
// creates an absent object and updates one fd controls, found live or in
// the cache; it never lands on an object fd does not control (none, or
// another controller), which Claim reports naming it; and an object the
// cache holds as fd's but that is gone or replaced meanwhile refuses the
// apply (UIDRefused), and is judged live again.
func TestClaimGuardsTheApply(t *testing.T) {
	cp, err := framework.StartControlPlane(framework.ControlPlaneOptions{Name: "claim"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cp.Stop() }()
	fd := app(func(fd *v1beta1.FlinkDeployment) { fd.Namespace = "default" })
	mine := []metav1.OwnerReference{{APIVersion: "flink.apache.org/v1beta1", Kind: "FlinkDeployment", Name: fd.Name, UID: fd.UID, Controller: ptr.To(true)}}
	other := []metav1.OwnerReference{{APIVersion: "flink.apache.org/v1beta1", Kind: "FlinkDeployment", Name: "other", UID: "uid-other", Controller: ptr.To(true)}}
	// adopted: owned as the Apache operator owns its Deployments, not as
	// their controller.
	adopted := []metav1.OwnerReference{{APIVersion: "flink.apache.org/v1beta1", Kind: "FlinkDeployment", Name: fd.Name, UID: fd.UID, Controller: ptr.To(false), BlockOwnerDeletion: ptr.To(true)}}
	adoptedUnderAnother := append(append([]metav1.OwnerReference{}, adopted...), metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "jm", UID: "uid-jm", Controller: ptr.To(true)})
	cases := []struct {
		name string
		// live is in the member, nil for none; cached is what the cache holds.
		live, cached []metav1.OwnerReference
		inMember     bool
		// wantForeign is the controller a ForeignObjectError names, or nil.
		wantForeign *string
	}{
		{name: "absent"},
		{name: "fd's", live: mine, inMember: true},
		{name: "fd's in the cache", live: mine, cached: mine, inMember: true},
		{name: "nobody's", inMember: true, wantForeign: ptr.To("")},
		{name: "another controller's", live: other, inMember: true, wantForeign: ptr.To("FlinkDeployment other")},
		{name: "fd's, adopted (owner, not controller)", live: adopted, inMember: true},
		{name: "fd's, adopted, in the cache", live: adopted, cached: adopted, inMember: true},
		{name: "owned by fd, controlled by another", live: adoptedUnderAnother, inMember: true, wantForeign: ptr.To("Deployment jm")},
		{name: "gone since cached", cached: mine},
		{name: "replaced since cached", cached: mine, inMember: true, wantForeign: ptr.To("")},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			name := "flink-config-" + string(rune('a'+i))
			var live *corev1.ConfigMap
			if tc.inMember {
				live = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, OwnerReferences: tc.live}, Data: map[string]string{"app": "theirs"}}
				if err := cp.Client.Create(ctx, live); err != nil {
					t.Fatal(err)
				}
			}
			cache := fake.NewClientBuilder().Build()
			if tc.cached != nil {
				held := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-gone"), OwnerReferences: tc.cached}}
				if live != nil && tc.live != nil {
					held.UID = live.UID
				}
				cache = fake.NewClientBuilder().WithObjects(held).Build()
			}
			want := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
				ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, OwnerReferences: mine}, Data: map[string]string{"flink": "ours"}}
			err := claimAndApply(ctx, cache, cp.Client, fd, want)
			checkClaimed(t, ctx, cp.Client, err, tc.wantForeign, live, want)
		})
	}
}

// claimAndApply applies obj as the reconciler does: Claim, apply, and
// once more live if the apply was refused by a UID the cache gave.
func claimAndApply(ctx context.Context, cached client.Reader, c client.Client, fd *v1beta1.FlinkDeployment, obj client.Object) error {
	apply := func() error {
		//lint:ignore SA1019 server-side apply of typed objects, as the hub does
		return c.Patch(ctx, obj, client.Apply, client.FieldOwner("flink-hub"), client.ForceOwnership)
	}
	fromCache, err := deployer.Claim(ctx, cached, c, fd, obj)
	if err != nil {
		return err
	}
	err = apply()
	if err == nil || !fromCache {
		return err
	}
	if !deployer.UIDRefused(err) {
		return errors.New("a refused UID not recognized: " + err.Error())
	}
	if _, err := deployer.Claim(ctx, nil, c, fd, obj); err != nil {
		return err
	}
	return apply()
}

// checkClaimed checks the outcome of claimAndApply: the ForeignObjectError
// naming wantForeign's controller and live untouched, or the member's
// object fd's with the applied data.
func checkClaimed(t *testing.T, ctx context.Context, c client.Client, err error, wantForeign *string, live, want *corev1.ConfigMap) {
	t.Helper()
	got := &corev1.ConfigMap{}
	if gerr := c.Get(ctx, client.ObjectKeyFromObject(want), got); gerr != nil {
		t.Fatal(gerr)
	}
	var foreign *deployer.ForeignObjectError
	if wantForeign != nil {
		if !errors.As(err, &foreign) || foreign.Controller != *wantForeign || foreign.Kind != "ConfigMap" || foreign.Name != want.Name {
			t.Fatalf("err %v, want a ForeignObjectError naming ConfigMap %s and controller %q", err, want.Name, *wantForeign)
		}
		if got.ResourceVersion != live.ResourceVersion || got.Data["app"] != "theirs" {
			t.Errorf("the foreign ConfigMap was written: %+v", got)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if got.Data["flink"] != "ours" || !metav1.IsControlledBy(got, &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{UID: want.OwnerReferences[0].UID}}) {
		t.Errorf("applied ConfigMap %+v", got)
	}
	if live != nil && got.UID != live.UID {
		t.Errorf("UID %s, want the existing %s", got.UID, live.UID)
	}
}
