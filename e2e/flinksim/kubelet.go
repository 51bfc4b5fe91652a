package flinksim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
)

const (
	// nodeName is the node every simulated pod runs on.
	nodeName = "flinksim"
	// resync is how often a cluster with a running JobManager is revisited.
	resync = 2 * time.Second
	// retry is how soon a cluster whose JobManager cannot start is retried.
	retryAfter = time.Second
)

// reconcile brings one Flink cluster (namespace, app label) in line: pods
// for its Deployments, native TaskManager pods, the JobManager process,
// task manager registration, Deployment status and endpoints.
func (m *member) reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	ns, app := req.Namespace, req.Name
	var deps appsv1.DeploymentList
	if err := m.cache.List(ctx, &deps, client.InNamespace(ns), client.MatchingLabels{labelApp: app}); err != nil {
		return reconcile.Result{}, err
	}
	var list corev1.PodList
	if err := m.cache.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{labelApp: app}); err != nil {
		return reconcile.Result{}, err
	}
	var jmDep *appsv1.Deployment
	alive := map[types.UID]*appsv1.Deployment{}
	for i := range deps.Items {
		d := &deps.Items[i]
		if d.DeletionTimestamp != nil {
			continue
		}
		alive[d.UID] = d
		if d.Labels[labelComponent] == componentJobManager && (jmDep == nil || d.Name == app) {
			jmDep = d
		}
	}

	// Garbage collection: pods of deleted Deployments, pods being deleted.
	var pods []*corev1.Pod
	for i := range list.Items {
		p := &list.Items[i]
		owner := metav1.GetControllerOf(p)
		if p.DeletionTimestamp != nil || (owner != nil && owner.Kind == "Deployment" && alive[owner.UID] == nil) {
			if err := m.deletePod(ctx, p); err != nil {
				return reconcile.Result{}, err
			}
			continue
		}
		pods = append(pods, p)
	}

	// The garbage collector, for Deployments deleted in the foreground:
	// their pods are gone now, so their foregroundDeletion finalizer goes.
	for i := range deps.Items {
		if err := m.finishForegroundDeletion(ctx, &deps.Items[i]); err != nil {
			return reconcile.Result{}, err
		}
	}

	// The Deployment controller: pods for every replica of every template.
	for _, d := range alive {
		var err error
		if pods, err = m.syncReplicas(ctx, d, pods); err != nil {
			return reconcile.Result{}, err
		}
	}

	key := types.NamespacedName{Namespace: ns, Name: app}
	result := reconcile.Result{}
	cluster, err := m.syncJobManager(ctx, key, jmDep, pods)
	if err != nil {
		m.opts.Log.Info("JobManager cannot start", "member", m.name, "cluster", key, "reason", err.Error())
		result.RequeueAfter = retryAfter
	}
	if cluster != nil {
		result.RequeueAfter = resync
		if cluster.config.Native {
			if pods, err = m.syncNativeTaskManagers(ctx, jmDep, cluster, pods); err != nil {
				return reconcile.Result{}, err
			}
		}
	}

	// The kubelet: every pod runs; a JobManager pod is ready once its
	// JobManager serves.
	for i, p := range pods {
		ready := true
		if p.Labels[labelComponent] == componentJobManager {
			ready = cluster != nil
		}
		if pods[i], err = m.runPod(ctx, p, ready); err != nil {
			return reconcile.Result{}, err
		}
	}
	if cluster != nil {
		cluster.jm.SetTaskManagers(readyTaskManagers(pods))
	}
	for _, d := range alive {
		if err := m.updateDeploymentStatus(ctx, d, pods); err != nil {
			return reconcile.Result{}, err
		}
	}
	if err := m.syncEndpoints(ctx, ns, app, pods); err != nil {
		return reconcile.Result{}, err
	}
	return result, nil
}

// finishForegroundDeletion removes the foregroundDeletion finalizer of a
// Deployment being deleted, as the garbage collector does once the
// dependents are gone (the caller has just deleted its pods).
func (m *member) finishForegroundDeletion(ctx context.Context, d *appsv1.Deployment) error {
	if d.DeletionTimestamp == nil || !controllerutil.ContainsFinalizer(d, metav1.FinalizerDeleteDependents) {
		return nil
	}
	patch := client.MergeFromWithOptions(d.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(d, metav1.FinalizerDeleteDependents)
	err := m.client.Patch(ctx, d, patch)
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// deletePod deletes a pod at once, as a kubelet confirming termination.
func (m *member) deletePod(ctx context.Context, p *corev1.Pod) error {
	err := m.client.Delete(ctx, p, client.GracePeriodSeconds(0), client.Preconditions{UID: &p.UID})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// templateHash names a pod template, like the pod-template-hash label.
func templateHash(t *corev1.PodTemplateSpec) string {
	raw, _ := json.Marshal(t)
	h := fnv.New32a()
	_, _ = h.Write(raw)
	return strconv.FormatUint(uint64(h.Sum32()), 36)
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
	have := map[string]bool{}
	var keep []*corev1.Pod
	for _, p := range pods {
		if !ownedBy(p, d.UID) {
			keep = append(keep, p)
			continue
		}
		idx, ok := replicaIndex(p.Name, d.Name+"-"+hash+"-")
		if !ok || idx >= want {
			if err := m.deletePod(ctx, p); err != nil {
				return nil, err
			}
			continue
		}
		have[p.Name] = true
		keep = append(keep, p)
	}
	for i := range want {
		name := fmt.Sprintf("%s-%s-%d", d.Name, hash, i)
		if have[name] {
			continue
		}
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
		if err := m.client.Create(ctx, p); err != nil {
			if apierrors.IsAlreadyExists(err) {
				continue
			}
			return nil, fmt.Errorf("creating pod %s/%s: %w", p.Namespace, p.Name, err)
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

// runPod gives a pod an IP and the status of a running (and ready or not)
// pod, unless it has it already.
func (m *member) runPod(ctx context.Context, p *corev1.Pod, ready bool) (*corev1.Pod, error) {
	if p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" && podReady(p) == ready {
		return p, nil
	}
	p = p.DeepCopy()
	if p.Status.PodIP == "" {
		m.assignIP(p)
	}
	now := metav1.Now()
	cond := func(t corev1.PodConditionType, ok bool) corev1.PodCondition {
		s := corev1.ConditionTrue
		if !ok {
			s = corev1.ConditionFalse
		}
		return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: now}
	}
	p.Status.Phase = corev1.PodRunning
	p.Status.HostIP, p.Status.HostIPs = "10.0.0.1", []corev1.HostIP{{IP: "10.0.0.1"}}
	if p.Status.StartTime == nil {
		p.Status.StartTime = &now
	}
	p.Status.Conditions = []corev1.PodCondition{
		cond(corev1.PodScheduled, true), cond(corev1.PodInitialized, true),
		cond(corev1.ContainersReady, ready), cond(corev1.PodReady, ready),
	}
	p.Status.ContainerStatuses = nil
	for _, c := range p.Spec.Containers {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: "flinksim://" + c.Image, Ready: ready, Started: ptr.To(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: *p.Status.StartTime}},
		})
	}
	if err := m.client.Status().Update(ctx, p); err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return p, nil // gone or changed: the next reconcile sees it
		}
		return nil, fmt.Errorf("running pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	return p, nil
}

func (m *member) assignIP(p *corev1.Pod) {
	ip := m.opts.Network.PodIP(m.name, p)
	p.Status.PodIP, p.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func running(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" }

// readyTaskManagers names the ready TaskManager pods, sorted.
func readyTaskManagers(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		if p.Labels[labelComponent] == componentTaskManager && running(p) && podReady(p) {
			out = append(out, p.Name)
		}
	}
	sort.Strings(out)
	return out
}

// updateDeploymentStatus writes replica counts and conditions as the
// Deployment controller would, only when they change.
func (m *member) updateDeploymentStatus(ctx context.Context, d *appsv1.Deployment, pods []*corev1.Pod) error {
	want := ptr.Deref(d.Spec.Replicas, 1)
	hash := templateHash(&d.Spec.Template)
	var total, updated, ready int32
	for _, p := range pods {
		if !ownedBy(p, d.UID) {
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

// syncJobManager runs the simulated JobManager while the JobManager
// Deployment has a running pod, restarting it when that pod is replaced.
func (m *member) syncJobManager(ctx context.Context, key types.NamespacedName, d *appsv1.Deployment, pods []*corev1.Pod) (*flinkCluster, error) {
	var leader *corev1.Pod
	if d != nil {
		for _, p := range pods {
			if ownedBy(p, d.UID) && (leader == nil || p.Name < leader.Name) {
				leader = p
			}
		}
	}
	m.mu.Lock()
	old := m.clusters[key]
	m.mu.Unlock()
	if old != nil && (leader == nil || leader.UID != old.podUID) {
		m.mu.Lock()
		delete(m.clusters, key)
		m.mu.Unlock()
		old.stop()
		old = nil
	}
	if leader == nil || old != nil {
		return old, nil
	}
	if leader.Status.PodIP == "" {
		m.assignIP(leader)
	}
	c, err := m.startJobManager(ctx, key, d, leader)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.clusters[key] = c
	m.mu.Unlock()
	return c, nil
}

func (m *member) startJobManager(ctx context.Context, key types.NamespacedName, d *appsv1.Deployment, pod *corev1.Pod) (*flinkCluster, error) {
	var cm corev1.ConfigMap
	if err := m.client.Get(ctx, types.NamespacedName{Namespace: key.Namespace, Name: configMapName(key.Name)}, &cm); err != nil {
		return nil, fmt.Errorf("reading the Flink configuration: %w", err)
	}
	conf, err := flinkConfigFrom(&cm)
	if err != nil {
		return nil, err
	}
	// A fault that survives redeploys: a configuration the JobManager
	// cannot start with (its pod never becomes ready).
	if msg := conf[StartupFailureKey]; msg != "" {
		return nil, fmt.Errorf("simulated startup failure: %s", msg)
	}
	probe, err := buildClusterConfig(d, conf, nil, m.opts)
	if err != nil {
		return nil, err
	}
	var restore *jobmanager.Restore
	if probe.ha && probe.Application {
		if restore, err = m.latestHACheckpoint(ctx, key.Namespace, probe.ClusterID, probe.Job.JobID); err != nil {
			return nil, err
		}
	}
	cc, err := buildClusterConfig(d, conf, restore, m.opts)
	if err != nil {
		return nil, err
	}
	cc.Hooks = jobmanager.Hooks{TaskManagersWanted: func(int) { m.enqueue(key) }}
	if cc.ha {
		cc.Hooks.CheckpointCompleted = func(jobID string, cp jobmanager.Checkpoint) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := m.recordHACheckpoint(ctx, key.Namespace, cc.ClusterID, jobID, cp); err != nil {
				m.opts.Log.Info("recording HA checkpoint failed", "member", m.name, "cluster", key, "error", err.Error())
			}
		}
		if err := m.writeHALeader(ctx, key.Namespace, cc.ClusterID, pod.Status.PodIP, cc.restPort); err != nil {
			return nil, err
		}
	}
	c := &flinkCluster{jm: jobmanager.New(cc.Config), podUID: pod.UID, config: cc}
	if m.opts.RESTLatency > 0 {
		c.jm.SetFaults(jobmanager.Faults{Latency: m.opts.RESTLatency})
	}
	c.handler = c.jm.Handler()
	ln, err := m.opts.Network.Listen(pod.Status.PodIP, cc.restPort)
	if err != nil {
		c.jm.Stop()
		return nil, fmt.Errorf("serving the JobManager on %s: %w", pod.Status.PodIP, err)
	}
	if ln != nil {
		c.server = &http.Server{Handler: c.handler, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := c.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				m.opts.Log.Info("JobManager server stopped", "cluster", key, "error", err.Error())
			}
		}()
	}
	return c, nil
}
