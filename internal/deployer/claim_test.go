package deployer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
// an apply by UID, and of a create by name, is what Claimer relies on), a
// write creates an absent object and updates one fd controls, found live or in
// the cache; it never lands on an object fd does not control (none, or
// another controller), which Write reports naming it; and an object the
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
	for _, expectAbsent := range []bool{false, true} {
		for i, tc := range cases {
			t.Run(fmt.Sprintf("%s, expected absent %t", tc.name, expectAbsent), func(t *testing.T) {
				ctx := context.Background()
				name := fmt.Sprintf("flink-config-%c-%t", 'a'+i, expectAbsent)
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
				c := deployer.Claimer{Cache: cache, Live: cp.Client, Client: cp.Client, FieldOwner: "flink-hub"}
				err := c.Write(ctx, fd, want, expectAbsent)
				checkClaimed(t, ctx, cp.Client, err, tc.wantForeign, live, want)
			})
		}
	}
}

// countingReader counts the reads it passes on; afterGet, when set, runs
// once after the first.
type countingReader struct {
	client.Reader
	gets     atomic.Int32
	afterGet func()
}

func (r *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	err := r.Reader.Get(ctx, key, obj, opts...)
	if r.gets.Add(1) == 1 && r.afterGet != nil {
		r.afterGet()
	}
	return err
}

// heldReader is a cache that holds one ConfigMap as it is (the fake
// client drops managed fields).
type heldReader struct{ held *corev1.ConfigMap }

func (r heldReader) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	if key != client.ObjectKeyFromObject(r.held) {
		return apierrors.NewNotFound(corev1.Resource("configmaps"), key.Name)
	}
	r.held.DeepCopyInto(obj.(*corev1.ConfigMap))
	return nil
}

func (heldReader) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("not served")
}

// TestCreatedObjectsFieldsMoveToTheApply: an object a first deployment
// creates costs one request (no read), and its fields, which the create
// gave the hub's Update entry, move to the hub's Apply entry before the
// next apply, found live or through the cache's marker: so an upgrade
// that stops setting a field removes it (an apply never removes a field
// an Update entry also holds).
func TestCreatedObjectsFieldsMoveToTheApply(t *testing.T) {
	cp, err := framework.StartControlPlane(framework.ControlPlaneOptions{Name: "claim-created"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cp.Stop() }()
	fd := app(func(fd *v1beta1.FlinkDeployment) { fd.Namespace = "default" })
	mine := []metav1.OwnerReference{{APIVersion: "flink.apache.org/v1beta1", Kind: "FlinkDeployment", Name: fd.Name, UID: fd.UID, Controller: ptr.To(true)}}
	for _, tc := range []struct {
		name string
		// throughCache: the cache holds the created object; changed: the
		// object changes (another writer labels it) right after the hub
		// read it, so that the move of the fields is refused once.
		throughCache, changed bool
	}{
		{name: "live"},
		{name: "through the cache", throughCache: true},
		{name: "changed after the read", changed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			name := "flink-config-" + strings.ReplaceAll(tc.name, " ", "-")
			conf := func(data map[string]string) *corev1.ConfigMap {
				return &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
					ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, OwnerReferences: mine}, Data: data}
			}
			live := &countingReader{Reader: cp.Client}
			c := deployer.Claimer{Live: live, Client: cp.Client, FieldOwner: "flink-hub"}
			created := conf(map[string]string{"keep": "1", "drop": "2"})
			if err := c.Write(ctx, fd, created, true); err != nil {
				t.Fatal(err)
			}
			if n := live.gets.Load(); n != 0 {
				t.Errorf("creating an absent object read it %d times, want none", n)
			}
			if !deployer.HasUpdateEntry(created) {
				t.Fatalf("a created object has no Update entry: %+v", created.ManagedFields)
			}
			if tc.throughCache {
				// As the member cache holds it: managed fields reduced
				// to a marker of the Update entry.
				held := created.DeepCopy()
				held.ManagedFields = []metav1.ManagedFieldsEntry{{Operation: metav1.ManagedFieldsOperationUpdate}}
				c.Cache = heldReader{held}
			}
			if tc.changed {
				live.afterGet = func() {
					patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"team":"payments"}}}`))
					if err := cp.Client.Patch(ctx, created.DeepCopy(), patch, client.FieldOwner("kubectl-label")); err != nil {
						t.Error(err)
					}
				}
			}
			if err := c.Write(ctx, fd, conf(map[string]string{"keep": "1"}), false); err != nil {
				t.Fatal(err)
			}
			checkFieldsMoved(t, ctx, cp.Client, created)
		})
	}
}

// checkFieldsMoved checks that the ConfigMap created and then applied
// without its key drop lost it, and that the hub's fields are in its
// Apply entry alone.
func checkFieldsMoved(t *testing.T, ctx context.Context, c client.Client, created *corev1.ConfigMap) {
	t.Helper()
	got := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(created), got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Data["drop"]; ok || got.Data["keep"] != "1" {
		t.Errorf("data %v after an apply without drop, want only keep", got.Data)
	}
	applies := 0
	for _, f := range got.ManagedFields {
		switch {
		case f.Manager != "flink-hub":
		case f.Operation == metav1.ManagedFieldsOperationApply:
			applies++
		default:
			t.Errorf("the hub still has a %s entry", f.Operation)
		}
	}
	if applies != 1 {
		t.Errorf("managed fields %+v, want one Apply entry of the hub", got.ManagedFields)
	}
}

// checkClaimed checks the outcome of Claimer.Write: the ForeignObjectError
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
