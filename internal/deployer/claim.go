package deployer

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/util/csaupgrade"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

// ForeignObjectError says that an object named as one of a
// FlinkDeployment's member objects exists and the FlinkDeployment does
// not control it (a Deployment made by kubectl or Helm, another
// FlinkDeployment's Service): the hub never writes to it, as Flink itself
// refuses to deploy a cluster whose objects exist.
type ForeignObjectError struct {
	// Kind, Namespace and Name name the object.
	Kind, Namespace, Name string
	// Controller is the kind and name of its controller, "" without one.
	Controller string
}

func (e *ForeignObjectError) Error() string {
	who := "it has no controller"
	if e.Controller != "" {
		who = "its controller is " + e.Controller
	}
	return fmt.Sprintf("the %s %s/%s exists and is not this FlinkDeployment's (%s), so the hub does not write to it: "+
		"rename the FlinkDeployment, or remove the %s", e.Kind, e.Namespace, e.Name, who, e.Kind)
}

// Controlled reports whether fd controls obj: obj's controller reference
// names fd's UID.
func Controlled(obj metav1.Object, fd *v1beta1.FlinkDeployment) bool {
	ref := metav1.GetControllerOfNoCopy(obj)
	return ref != nil && ref.UID == fd.UID
}

// Writable reports whether the hub may write obj for fd: fd controls it,
// or nothing does and fd owns it. The Apache operator makes its
// FlinkDeployment an owner, not the controller, of the Deployments it
// creates (kubernetes.jobmanager.owner.reference): adopted, they are
// fd's. Only who may already write the namespace's objects can add such
// an owner reference, so it grants nothing through the hub.
func Writable(obj metav1.Object, fd *v1beta1.FlinkDeployment) bool {
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		return ref.UID == fd.UID
	}
	for _, ref := range obj.GetOwnerReferences() {
		if ref.UID == fd.UID {
			return true
		}
	}
	return false
}

// Claimer writes a FlinkDeployment's member objects (with their TypeMeta)
// for the hub, never to an object the FlinkDeployment does not control (or
// own, with no controller: Writable): an apply with force would otherwise
// take over a same-named object that nothing controls, and add the
// FlinkDeployment as its controller.
//
// Every apply carries the UID of the member's object the FlinkDeployment
// controls, so that the apiserver refuses it if the name has meanwhile
// gone to another object (metadata.uid is immutable) or to none (a UID
// with nothing to apply to is a conflict): UIDRefused. Whose an object is
// is read from the cache when it holds the object as the FlinkDeployment's
// (no request), live (its metadata) otherwise. Where the objects are
// expected absent (a first deployment), a create replaces that read: the
// apiserver refuses it if any object has the name, and only then is the
// object read. A created object's fields belong to the field manager's
// Update entry, which an apply never removes a field from: before the
// object's first apply they move to its Apply entry (csaupgrade), so that
// an upgrade that stops setting a field removes it.
type Claimer struct {
	// Cache is the member cache, which holds only objects labelled as the
	// hub's and may drop their managed fields but for a marker
	// (HasUpdateEntry); nil to judge every object live.
	Cache client.Reader
	// Live reads the member apiserver.
	Live client.Reader
	// Client writes to the member.
	Client client.Client
	// FieldOwner is the hub's field manager.
	FieldOwner string
}

// Write creates or applies obj, one of fd's member objects; obj becomes
// the result. expectAbsent says the object is likely absent (fd's first
// deployment): it is then created with a POST when the cache does not hold
// it. An object fd may not write (Writable) is left as it is and a
// ForeignObjectError names it.
func (c Claimer) Write(ctx context.Context, fd *v1beta1.FlinkDeployment, obj client.Object, expectAbsent bool) error {
	fromCache := c.Cache != nil && c.fromCache(ctx, fd, obj)
	if !fromCache {
		if expectAbsent {
			if created, err := c.create(ctx, obj); created || err != nil {
				return err
			}
		}
		if err := c.judgeLive(ctx, fd, obj); err != nil {
			return err
		}
	}
	err := c.apply(ctx, obj)
	if err == nil || !fromCache || !UIDRefused(err) {
		return err
	}
	// Gone or replaced since the cache saw it.
	if err := c.judgeLive(ctx, fd, obj); err != nil {
		return err
	}
	return c.apply(ctx, obj)
}

// fromCache reports whether the cache holds obj as fd's, with its fields
// in the hub's Apply entry (no Update entry marked); obj then gets its
// UID.
func (c Claimer) fromCache(ctx context.Context, fd *v1beta1.FlinkDeployment, obj client.Object) bool {
	held := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(client.Object)
	if c.Cache.Get(ctx, client.ObjectKeyFromObject(obj), held) != nil || !Writable(held, fd) || HasUpdateEntry(held) {
		return false
	}
	obj.SetUID(held.GetUID())
	return true
}

// create creates obj with a POST, which the apiserver refuses if any
// object has the name: created is false, with no error, then.
func (c Claimer) create(ctx context.Context, obj client.Object) (created bool, err error) {
	obj.SetUID("")
	obj.SetResourceVersion("")
	switch err := c.Client.Create(ctx, obj, client.FieldOwner(c.FieldOwner)); {
	case err == nil:
		return true, nil
	case apierrors.IsAlreadyExists(err):
		return false, nil
	default:
		return false, fmt.Errorf("create %T %s: %w", obj, obj.GetName(), err)
	}
}

// judgeLive reads obj's metadata from the member: absent, obj's UID is
// cleared so that the apply creates it; fd's (Writable), obj gets its
// UID, and the fields of the hub's Update entry move to its Apply entry
// (read again and retried if the object changed in between, as a
// Deployment's status does); otherwise a ForeignObjectError names the
// object and its controller.
func (c Claimer) judgeLive(ctx context.Context, fd *v1beta1.FlinkDeployment, obj client.Object) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error { return c.judgeLiveOnce(ctx, fd, obj) })
}

// judgeLiveOnce is one read and judgement of judgeLive.
func (c Claimer) judgeLiveOnce(ctx context.Context, fd *v1beta1.FlinkDeployment, obj client.Object) error {
	key := client.ObjectKeyFromObject(obj)
	gvk := obj.GetObjectKind().GroupVersionKind()
	if gvk.Kind == "" {
		return fmt.Errorf("%T %s has no kind", obj, key.Name)
	}
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(gvk)
	switch err := c.Live.Get(ctx, key, meta); {
	case apierrors.IsNotFound(err):
		obj.SetUID("")
		return nil
	case err != nil:
		return fmt.Errorf("read %s %s: %w", gvk.Kind, key.Name, err)
	case !Writable(meta, fd):
		foreign := &ForeignObjectError{Kind: gvk.Kind, Namespace: key.Namespace, Name: key.Name}
		if ref := metav1.GetControllerOfNoCopy(meta); ref != nil {
			foreign.Controller = ref.Kind + " " + ref.Name
		}
		return foreign
	}
	obj.SetUID(meta.UID)
	return c.ownCreatedFields(ctx, meta)
}

// ownCreatedFields moves the fields of the hub's Update entry on the
// object meta describes (a create, or another write that was not an
// apply) into its Apply entry: one JSON patch of the managed fields,
// conditional on the resource version read, when there is such an entry.
func (c Claimer) ownCreatedFields(ctx context.Context, meta *metav1.PartialObjectMetadata) error {
	patch, err := csaupgrade.UpgradeManagedFieldsPatch(meta, sets.New(c.FieldOwner), c.FieldOwner)
	if err != nil || patch == nil {
		return err
	}
	if err := c.Client.Patch(ctx, meta, client.RawPatch(types.JSONPatchType, patch)); err != nil {
		return fmt.Errorf("move the fields of %s %s to the hub's apply: %w", meta.Kind, meta.Name, err)
	}
	return nil
}

// apply applies obj with server-side apply, forcing the hub's fields.
func (c Claimer) apply(ctx context.Context, obj client.Object) error {
	//lint:ignore SA1019 server-side apply of typed objects; client.Client.Apply wants apply configurations
	if err := c.Client.Patch(ctx, obj, client.Apply, client.FieldOwner(c.FieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("apply %T %s: %w", obj, obj.GetName(), err)
	}
	return nil
}

// HasUpdateEntry reports whether obj's managed fields have an Update
// entry of the object itself (not a subresource): a write that was not an
// apply, such as the hub's create. The member cache keeps such an entry
// (without its fields) as a marker, so that the hub judges the object
// live before its next apply and moves its own fields to its Apply entry.
func HasUpdateEntry(obj metav1.Object) bool {
	for _, f := range obj.GetManagedFields() {
		if f.Operation == metav1.ManagedFieldsOperationUpdate && f.Subresource == "" {
			return true
		}
	}
	return false
}

// UIDRefused reports whether err is the apiserver's refusal of an apply
// because of the UID Claimer set: no object has the name any more (a
// conflict; an apply with force has no other), or another one has it
// (metadata.uid is immutable).
func UIDRefused(err error) bool {
	if apierrors.IsConflict(err) {
		return true
	}
	var status apierrors.APIStatus
	if !apierrors.IsInvalid(err) || !errors.As(err, &status) || status.Status().Details == nil {
		return false
	}
	for _, cause := range status.Status().Details.Causes {
		if cause.Field == "metadata.uid" {
			return true
		}
	}
	return false
}
