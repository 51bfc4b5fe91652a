package deployer

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// Claim prepares obj, one of fd's member objects (with its TypeMeta), for
// a server-side apply that never writes to an object fd does not control
// (or own, with no controller: Writable):
// an apply with force would otherwise take over a same-named object that
// nothing controls, and add fd as its controller. It sets obj's UID to
// that of the member's object fd controls, so that the apiserver refuses
// the apply if the name has meanwhile gone to another object (metadata.uid
// is immutable) or to none (a UID with nothing to apply to is a
// conflict): UIDRefused. It clears the UID when there is no such object,
// so that the apply creates it, and returns a ForeignObjectError when an
// object fd does not control has the name.
//
// cached (the member cache, which holds only objects labelled as the
// hub's; nil to skip it) answers first: an object it holds as fd's costs
// no request. Otherwise (the first deployment, an object deleted or
// replaced, one without the hub's label) live, the apiserver, is read for
// the object's metadata. fromCache says which answered: an apply refused
// by UIDRefused after a cached answer is to be judged live.
func Claim(ctx context.Context, cached, live client.Reader, fd *v1beta1.FlinkDeployment, obj client.Object) (fromCache bool, err error) {
	key := client.ObjectKeyFromObject(obj)
	if cached != nil {
		held := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(client.Object)
		if cached.Get(ctx, key, held) == nil && Writable(held, fd) {
			obj.SetUID(held.GetUID())
			return true, nil
		}
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	if gvk.Kind == "" {
		return false, fmt.Errorf("%T %s has no kind", obj, key.Name)
	}
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(gvk)
	switch err := live.Get(ctx, key, meta); {
	case apierrors.IsNotFound(err):
		obj.SetUID("")
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read %s %s: %w", gvk.Kind, key.Name, err)
	case !Writable(meta, fd):
		foreign := &ForeignObjectError{Kind: gvk.Kind, Namespace: key.Namespace, Name: key.Name}
		if ref := metav1.GetControllerOfNoCopy(meta); ref != nil {
			foreign.Controller = ref.Kind + " " + ref.Name
		}
		return false, foreign
	}
	obj.SetUID(meta.UID)
	return false, nil
}

// UIDRefused reports whether err is the apiserver's refusal of an apply
// because of the UID Claim set: no object has the name any more (a
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
