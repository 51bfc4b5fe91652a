//lint:file-ignore SA1019 the simulator writes Endpoints as the endpoints controller does: kube-apiserver's service proxy resolves Services through them

package flinksim

import (
	"context"
	"fmt"
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// managedBy marks the EndpointSlices the simulator writes.
const managedBy = "flinksim.flink-hub.io"

// serviceAppIndex indexes cached Services by the app their selector picks.
const serviceAppIndex = "spec.selector.app"

// serviceApp is the serviceAppIndex value of a Service.
func serviceApp(o client.Object) []string {
	if svc, ok := o.(*corev1.Service); ok && svc.Spec.Selector[labelApp] != "" {
		return []string{svc.Spec.Selector[labelApp]}
	}
	return nil
}

// syncEndpoints writes Endpoints and an EndpointSlice for every Service of
// the cluster (selector app=<app>), as the endpoints controllers would. The
// apiserver's service proxy reads the Endpoints.
func (m *member) syncEndpoints(ctx context.Context, ns, app string, pods []*corev1.Pod) error {
	// The cached Services are read, not changed: no copies.
	var svcs corev1.ServiceList
	if err := m.cache.List(ctx, &svcs, client.InNamespace(ns), client.MatchingFields{serviceAppIndex: app}, client.UnsafeDisableDeepCopy); err != nil {
		return err
	}
	for i := range svcs.Items {
		svc := &svcs.Items[i]
		if svc.DeletionTimestamp != nil {
			continue
		}
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		var selected []*corev1.Pod
		for _, p := range pods {
			if running(p) && sel.Matches(labels.Set(p.Labels)) {
				selected = append(selected, p)
			}
		}
		memo := m.endpointsMemo(svc, selected)
		if m.wrote(svc.Namespace+"/"+svc.Name, memo) {
			continue
		}
		if err := m.writeEndpoints(ctx, svc, selected); err != nil {
			return err
		}
		if err := m.writeEndpointSlice(ctx, svc, selected); err != nil {
			return err
		}
		m.remember(svc.Namespace+"/"+svc.Name, memo)
	}
	return nil
}

// targetPort resolves a Service port on a pod: a number, or a named
// container port.
func targetPort(sp corev1.ServicePort, p *corev1.Pod) (int32, bool) {
	switch {
	case sp.TargetPort.Type == intstr.String && sp.TargetPort.StrVal != "":
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				if cp.Name == sp.TargetPort.StrVal {
					return cp.ContainerPort, true
				}
			}
		}
		return 0, false
	case sp.TargetPort.IntVal != 0:
		return sp.TargetPort.IntVal, true
	default:
		return sp.Port, true
	}
}

func (m *member) writeEndpoints(ctx context.Context, svc *corev1.Service, pods []*corev1.Pod) error {
	var subsets []corev1.EndpointSubset
	for _, p := range pods {
		addr := corev1.EndpointAddress{IP: p.Status.PodIP, NodeName: ptr.To(nodeName),
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID}}
		var ports []corev1.EndpointPort
		for _, sp := range svc.Spec.Ports {
			if port, ok := targetPort(sp, p); ok {
				ports = append(ports, corev1.EndpointPort{Name: sp.Name, Port: port, Protocol: sp.Protocol})
			}
		}
		ss := corev1.EndpointSubset{Ports: ports}
		if podReady(p) {
			ss.Addresses = []corev1.EndpointAddress{addr}
		} else {
			ss.NotReadyAddresses = []corev1.EndpointAddress{addr}
		}
		subsets = append(subsets, ss)
	}
	key := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	return upsert(ctx, m, key,
		func() *corev1.Endpoints {
			ep := &corev1.Endpoints{Subsets: subsets}
			ep.Namespace, ep.Name, ep.Labels = svc.Namespace, svc.Name, maps.Clone(svc.Labels)
			return ep
		},
		func(ep *corev1.Endpoints) bool {
			if equality.Semantic.DeepEqual(ep.Subsets, subsets) {
				return false
			}
			ep.Subsets = subsets
			return true
		})
}

func (m *member) writeEndpointSlice(ctx context.Context, svc *corev1.Service, pods []*corev1.Pod) error {
	want := discoveryv1.EndpointSlice{AddressType: discoveryv1.AddressTypeIPv4, Endpoints: []discoveryv1.Endpoint{}, Ports: []discoveryv1.EndpointPort{}}
	for _, p := range pods {
		want.Endpoints = append(want.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{p.Status.PodIP},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(podReady(p)), Serving: ptr.To(podReady(p)), Terminating: ptr.To(false)},
			NodeName:   ptr.To(nodeName),
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID},
		})
	}
	for _, sp := range svc.Spec.Ports {
		port := sp.Port
		if len(pods) > 0 {
			if tp, ok := targetPort(sp, pods[0]); ok {
				port = tp
			}
		}
		want.Ports = append(want.Ports, discoveryv1.EndpointPort{Name: ptr.To(sp.Name), Port: ptr.To(port), Protocol: ptr.To(sp.Protocol)})
	}
	name := fmt.Sprintf("%s-flinksim", svc.Name)
	return upsert(ctx, m, types.NamespacedName{Namespace: svc.Namespace, Name: name},
		func() *discoveryv1.EndpointSlice {
			es := want.DeepCopy()
			es.Namespace, es.Name = svc.Namespace, name
			es.Labels = map[string]string{discoveryv1.LabelServiceName: svc.Name, discoveryv1.LabelManagedBy: managedBy}
			return es
		},
		func(es *discoveryv1.EndpointSlice) bool {
			if equality.Semantic.DeepEqual(es.Endpoints, want.Endpoints) && equality.Semantic.DeepEqual(es.Ports, want.Ports) {
				return false
			}
			es.Endpoints, es.Ports = want.Endpoints, want.Ports
			return true
		})
}

// upsert creates or updates the object named key the way an informer-based
// controller does: it writes what the member's cache holds without reading
// it (creating desired() when the cache has no such object, updating the
// cached copy, modified by change, when it has). A stale cache
// (AlreadyExists, Conflict) costs one live read; then change says whether
// the live object needs the update. Callers skip upsert when nothing
// changed since their last write.
func upsert[T client.Object](ctx context.Context, m *member, key types.NamespacedName, desired func() T, change func(T) bool) error {
	cur := desired()
	err := m.cache.Get(ctx, key, cur)
	switch {
	case apierrors.IsNotFound(err):
		if err = m.client.Create(ctx, desired()); !apierrors.IsAlreadyExists(err) {
			return err
		}
	case err == nil:
		change(cur)
		if err = m.client.Update(ctx, cur); !apierrors.IsConflict(err) {
			return err
		}
	default:
		return err
	}
	if err := m.client.Get(ctx, key, cur); err != nil {
		return err
	}
	if !change(cur) {
		return nil
	}
	return ignoreConflict(m.client.Update(ctx, cur))
}

func ignoreConflict(err error) error {
	if apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// endpointsMemo sums up what a Service's endpoints depend on: its ports,
// and each selected pod's address, readiness and container ports. Only
// values go in: a struct printed whole prints its pointers' addresses
// (a container's probes, security context), which differ in every copy
// the informer makes, so the memo of unchanged endpoints could differ.
func (m *member) endpointsMemo(svc *corev1.Service, pods []*corev1.Pod) string {
	var b strings.Builder
	b.WriteString(string(svc.UID))
	for _, sp := range svc.Spec.Ports {
		fmt.Fprintf(&b, "|%s/%d/%s/%s", sp.Name, sp.Port, sp.TargetPort.String(), sp.Protocol)
	}
	for _, p := range pods {
		fmt.Fprintf(&b, "|%s/%s/%v", p.UID, p.Status.PodIP, podReady(p))
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				fmt.Fprintf(&b, "/%s:%d:%s", cp.Name, cp.ContainerPort, cp.Protocol)
			}
		}
	}
	return b.String()
}

// wrote reports whether memo is what was last written for key.
func (m *member) wrote(key, memo string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.written[key] == memo
}

func (m *member) remember(key, memo string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.written[key] = memo
}
