package flinksim

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// templateHash names a pod template, like the pod-template-hash label.
func templateHash(t *corev1.PodTemplateSpec) string {
	raw, _ := json.Marshal(t)
	h := fnv.New32a()
	_, _ = h.Write(raw)
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}

// replicaOf reports whether a pod is one of the Deployment's replicas, not
// a native TaskManager pod that the JobManager created under the same
// owner.
func replicaOf(p *corev1.Pod, d *appsv1.Deployment) bool {
	return ownedBy(p, d.UID) && p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != ""
}

func ownedBy(p *corev1.Pod, uid types.UID) bool {
	o := metav1.GetControllerOf(p)
	return o != nil && o.UID == uid
}

// syncReplicas creates the missing pods of a Deployment and deletes pods
// of old templates and beyond the replica count. Pod names are
// deterministic, so a stale cache cannot create a pod twice.
func (m *member) syncReplicas(ctx context.Context, d *appsv1.Deployment, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	want := int(ptr.Deref(d.Spec.Replicas, 1))
	hash := templateHash(&d.Spec.Template)
	mine := func(p *corev1.Pod) bool { return replicaOf(p, d) }
	return m.syncIndexedPods(ctx, pods, mine, d.Name+"-"+hash+"-", 0, want-1, "pod", func(name string) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name: name, Namespace: d.Namespace,
				Labels:          mergeLabels(d.Spec.Template.Labels, map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: hash}),
				Annotations:     d.Spec.Template.Annotations,
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, appsv1.SchemeGroupVersion.WithKind("Deployment"))},
			},
			Spec: *d.Spec.Template.Spec.DeepCopy(),
		}
		p.Spec.NodeName = nodeName
		return p
	})
}

// syncIndexedPods syncs the pods of one owner (those of pods that mine
// selects), named prefix<i>: it deletes those whose i is not from first to
// last, and creates the missing ones, built by newPod, in the order of i;
// what names them in errors. It returns the pods that remain, other
// owners' included.
func (m *member) syncIndexedPods(ctx context.Context, pods []*corev1.Pod, mine func(*corev1.Pod) bool, prefix string, first, last int,
	what string, newPod func(name string) *corev1.Pod) ([]*corev1.Pod, error) {
	have := map[string]bool{}
	var keep []*corev1.Pod
	for _, p := range pods {
		if !mine(p) {
			keep = append(keep, p)
			continue
		}
		idx, ok := replicaIndex(p.Name, prefix)
		if !ok || idx > last {
			if err := m.deletePod(ctx, p); err != nil {
				return nil, err
			}
			continue
		}
		have[p.Name] = true
		keep = append(keep, p)
	}
	for i := first; i <= last; i++ {
		name := prefix + strconv.Itoa(i)
		if have[name] {
			continue
		}
		p := newPod(name)
		if err := m.client.Create(ctx, p); err != nil {
			if apierrors.IsAlreadyExists(err) {
				continue
			}
			return nil, fmt.Errorf("creating %s %s/%s: %w", what, p.Namespace, p.Name, err)
		}
		keep = append(keep, p)
	}
	return keep, nil
}

func replicaIndex(name, prefix string) (int, bool) {
	if !strings.HasPrefix(name, prefix) {
		return 0, false
	}
	i, err := strconv.Atoi(strings.TrimPrefix(name, prefix))
	return i, err == nil
}

func mergeLabels(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// updateDeploymentStatus writes replica counts and conditions as the
// Deployment controller would, only when they change.
func (m *member) updateDeploymentStatus(ctx context.Context, d *appsv1.Deployment, pods []*corev1.Pod) error {
	want := ptr.Deref(d.Spec.Replicas, 1)
	hash := templateHash(&d.Spec.Template)
	var total, updated, ready int32
	for _, p := range pods {
		if !replicaOf(p, d) {
			continue
		}
		total++
		if p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == hash {
			updated++
		}
		if running(p) && podReady(p) {
			ready++
		}
	}
	st := appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation, Replicas: total, UpdatedReplicas: updated,
		ReadyReplicas: ready, AvailableReplicas: ready, UnavailableReplicas: max(0, want-ready),
	}
	available := ready >= want
	progressed := updated == want && ready == want && total == want
	st.Conditions = []appsv1.DeploymentCondition{
		deploymentCondition(d, appsv1.DeploymentAvailable, available, "MinimumReplicasAvailable", "MinimumReplicasUnavailable"),
		deploymentCondition(d, appsv1.DeploymentProgressing, true, map[bool]string{true: "NewReplicaSetAvailable", false: "ReplicaSetUpdated"}[progressed], ""),
	}
	if equality.Semantic.DeepEqual(st, d.Status) {
		return nil
	}
	d = d.DeepCopy()
	d.Status = st
	if err := m.client.Status().Update(ctx, d); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deployment %s/%s status: %w", d.Namespace, d.Name, err)
	}
	return nil
}

// deploymentCondition keeps the old transition time when nothing changed.
func deploymentCondition(d *appsv1.Deployment, t appsv1.DeploymentConditionType, ok bool, reasonTrue, reasonFalse string) appsv1.DeploymentCondition {
	c := appsv1.DeploymentCondition{Type: t, Status: corev1.ConditionTrue, Reason: reasonTrue}
	if !ok {
		c.Status, c.Reason = corev1.ConditionFalse, reasonFalse
	}
	for _, old := range d.Status.Conditions {
		if old.Type == t && old.Status == c.Status && old.Reason == c.Reason {
			c.LastTransitionTime, c.LastUpdateTime, c.Message = old.LastTransitionTime, old.LastUpdateTime, old.Message
			return c
		}
	}
	now := metav1.Now()
	c.LastTransitionTime, c.LastUpdateTime = now, now
	c.Message = fmt.Sprintf("Deployment %s: %s", d.Name, c.Reason)
	return c
}

// finishDeletion plays the garbage collector for a Deployment deleted with
// propagationPolicy Foreground: once its pods (deleted above as its
// dependents) and its other dependents (collectDependents) are gone, the
// foregroundDeletion finalizer goes.
func (m *member) finishDeletion(ctx context.Context, d *appsv1.Deployment, pods []corev1.Pod) error {
	fin := d.Finalizers
	if !slices.Contains(fin, metav1.FinalizerDeleteDependents) {
		return nil
	}
	for i := range pods {
		if ownedBy(&pods[i], d.UID) {
			if err := m.client.Get(ctx, client.ObjectKeyFromObject(&pods[i]), &corev1.Pod{}); !apierrors.IsNotFound(err) {
				return err // still there (or unknown): wait for the next event
			}
		}
	}
	if err := m.collectDependents(ctx, d); err != nil {
		return err
	}
	patch := client.MergeFrom(d.DeepCopy())
	d.Finalizers = slices.DeleteFunc(slices.Clone(fin), func(f string) bool { return f == metav1.FinalizerDeleteDependents })
	if err := m.client.Patch(ctx, d, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("finishing deletion of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	return nil
}

// collectDependents deletes the Services, ConfigMaps and Ingresses that
// d, a Deployment deleted in the foreground, owns, as the garbage
// collector deletes an owner's dependents before the owner: Flink's
// native client makes the JobManager Deployment the controller of its
// Services and ConfigMaps (Fabric8FlinkKubeClient), the Apache operator
// of its Ingress (IngressUtils), all blocking the owner's deletion. The
// Services and ConfigMaps are found by d's app label (Flink labels its
// objects with app=<cluster id>), the Ingresses among all of the
// namespace (the Apache operator's has no labels). An error says that
// one is still being deleted (a finalizer holds it): retried.
func (m *member) collectDependents(ctx context.Context, d *appsv1.Deployment) error {
	app := client.MatchingLabels{labelApp: d.Labels[labelApp]}
	lists := []struct {
		list client.ObjectList
		opts []client.ListOption
	}{
		{&corev1.ServiceList{}, []client.ListOption{client.InNamespace(d.Namespace), app}},
		{&corev1.ConfigMapList{}, []client.ListOption{client.InNamespace(d.Namespace), app}},
		{&networkingv1.IngressList{}, []client.ListOption{client.InNamespace(d.Namespace)}},
	}
	held := 0
	for _, l := range lists {
		if err := m.client.List(ctx, l.list, l.opts...); err != nil {
			return fmt.Errorf("list dependents of deployment %s/%s: %w", d.Namespace, d.Name, err)
		}
		err := meta.EachListItem(l.list, func(o runtime.Object) error {
			obj := o.(client.Object)
			if !slices.ContainsFunc(obj.GetOwnerReferences(), func(r metav1.OwnerReference) bool { return r.UID == d.UID }) {
				return nil
			}
			if len(obj.GetFinalizers()) > 0 {
				held++
			}
			if !obj.GetDeletionTimestamp().IsZero() {
				return nil
			}
			uid := obj.GetUID()
			if err := m.client.Delete(ctx, obj, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return fmt.Errorf("delete %T %s, a dependent of deployment %s: %w", obj, obj.GetName(), d.Name, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if held > 0 {
		return fmt.Errorf("deployment %s/%s: %d dependents still being deleted", d.Namespace, d.Name, held)
	}
	return nil
}
