package deployer

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

// ServiceInPlace reports whether the apiserver turns the member's Service
// live into want by an apply. A Service's cluster IP never changes once
// set (the apiserver refuses the change as invalid), and an apply that
// leaves it unset keeps the one the Service has, None included; so a
// change between headless (clusterIP None, Headless_ClusterIP) and an
// allocated cluster IP (the other exposed types), either way, needs a new
// Service. Nothing else the hub sets on a Service (its type among
// ClusterIP, NodePort and LoadBalancer, the selector, the ports) is
// immutable.
func ServiceInPlace(live, want *corev1.Service) bool {
	if want.Spec.ClusterIP != "" {
		return live.Spec.ClusterIP == want.Spec.ClusterIP
	}
	return live.Spec.ClusterIP != corev1.ClusterIPNone
}

// ServiceNotOwnedError is ReplaceService's answer for a Service that
// cannot change in place and that the FlinkDeployment does not own: the
// hub deletes only what it owns.
type ServiceNotOwnedError struct {
	// Namespace and Name name the Service.
	Namespace, Name string
	// ClusterIP is the Service's cluster IP, Want the one the spec asks for
	// ("" for one the apiserver allocates).
	ClusterIP, Want string
}

func (e *ServiceNotOwnedError) Error() string {
	want := "an allocated one"
	if e.Want != "" {
		want = e.Want
	}
	return fmt.Sprintf("the Service %s/%s has cluster IP %s and the spec (kubernetes.rest-service.exposed.type) needs %s, "+
		"which the apiserver cannot change in place; it is not this FlinkDeployment's, so the hub does not replace it: "+
		"delete it, or change kubernetes.rest-service.exposed.type back", e.Namespace, e.Name, e.ClusterIP, want)
}

// ServiceHeldError is ReplaceService's answer while the Service it
// deleted (or found deleted) is still there: finalizers hold it (a load
// balancer's cleanup). Service is the Service as last read.
type ServiceHeldError struct{ Service *corev1.Service }

func (e *ServiceHeldError) Error() string {
	return fmt.Sprintf("the Service %s/%s is being deleted to be created anew (its cluster IP cannot change in place); held by finalizers %s",
		e.Service.Namespace, e.Service.Name, strings.Join(e.Service.Finalizers, ", "))
}

// ReplaceService deletes live, a Service of fd that cannot become want in
// place (ServiceInPlace), so that applying want next creates it anew. It
// deletes only a Service fd owns, and only the one it was given (by UID),
// reading with r, the apiserver, and writing with w. It returns a
// ServiceNotOwnedError for a Service fd does not own, and a
// ServiceHeldError while the deleted Service is still there.
func ReplaceService(ctx context.Context, r client.Reader, w client.Writer, fd *v1beta1.FlinkDeployment, live, want *corev1.Service) error {
	if !ownedBy(live, fd) {
		return &ServiceNotOwnedError{Namespace: live.Namespace, Name: live.Name, ClusterIP: live.Spec.ClusterIP, Want: want.Spec.ClusterIP}
	}
	if live.DeletionTimestamp.IsZero() {
		uid := live.UID
		if err := w.Delete(ctx, live, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("delete Service %s to change its cluster IP: %w", live.Name, err)
		}
	}
	left := &corev1.Service{}
	if err := r.Get(ctx, client.ObjectKeyFromObject(live), left); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("read Service %s: %w", live.Name, err)
	}
	if left.UID != live.UID {
		// Another Service took the name meanwhile: judged on the next apply.
		return fmt.Errorf("the Service %s was replaced by someone else while the hub replaced it", live.Name)
	}
	return &ServiceHeldError{Service: left}
}
