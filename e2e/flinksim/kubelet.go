package flinksim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
)

const (
	// nodeName is the node every simulated pod runs on.
	nodeName = "flinksim"
	// resync is how often a cluster with a running JobManager is revisited,
	// a safety net: events and JobManager hooks drive reconciles.
	resync = 30 * time.Second
	// retry is how soon a cluster whose JobManager cannot start is retried.
	retryAfter = time.Second
)

// appIndex indexes cached Deployments and Pods by their app label: a
// reconcile lists one cluster's, not (label matching) every one of the
// namespace, which made the simulator's lists a third of its CPU with
// 1,000 clusters in a namespace.
const appIndex = "metadata.labels.app"

// labelAppValue is the appIndex value of an object.
func labelAppValue(o client.Object) []string {
	if app := o.GetLabels()[labelApp]; app != "" {
		return []string{app}
	}
	return nil
}

// reconcile brings one Flink cluster (namespace, app label) in line: pods
// for its Deployments, native TaskManager pods, the JobManager process,
// task manager registration, Deployment status and endpoints.
func (m *member) reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	ns, app := req.Namespace, req.Name
	var deps appsv1.DeploymentList
	if err := m.cache.List(ctx, &deps, client.InNamespace(ns), client.MatchingFields{appIndex: app}); err != nil {
		return reconcile.Result{}, err
	}
	var list corev1.PodList
	if err := m.cache.List(ctx, &list, client.InNamespace(ns), client.MatchingFields{appIndex: app}); err != nil {
		return reconcile.Result{}, err
	}
	jmDep, alive, deleting := groupDeployments(deps.Items, app)
	pods, err := m.collectGarbage(ctx, list.Items, alive, deleting)
	if err != nil {
		return reconcile.Result{}, err
	}
	if pods, err = m.syncAllReplicas(ctx, alive, pods); err != nil {
		return reconcile.Result{}, err
	}
	unmounted, mountRetry, err := m.mountVolumes(ctx, pods)
	if err != nil {
		return reconcile.Result{}, err
	}

	key := types.NamespacedName{Namespace: ns, Name: app}
	result := reconcile.Result{}
	cluster, err := m.syncJobManager(ctx, key, jmDep, pods, unmounted)
	var exit *jobManagerExit
	if err != nil {
		m.opts.Log.Info("JobManager cannot start", "member", m.name, "cluster", key, "reason", err.Error())
		result.RequeueAfter = retryAfter
		errors.As(err, &exit)
	}
	if cluster != nil {
		result.RequeueAfter = resync
		if cluster.config.Native {
			if pods, err = m.syncNativeTaskManagers(ctx, jmDep, cluster, pods); err != nil {
				return reconcile.Result{}, err
			}
		}
	}

	if err := m.runPods(ctx, key, cluster, exit, pods, unmounted); err != nil {
		return reconcile.Result{}, err
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
	result.RequeueAfter = minRetry(result.RequeueAfter, mountRetry)
	return result, nil
}

// groupDeployments groups a cluster's Deployments into the JobManager's (the
// one named after app if there are several), those alive by UID, and those
// being deleted.
func groupDeployments(deps []appsv1.Deployment, app string) (jmDep *appsv1.Deployment, alive map[types.UID]*appsv1.Deployment, deleting []*appsv1.Deployment) {
	alive = map[types.UID]*appsv1.Deployment{}
	for i := range deps {
		d := &deps[i]
		if d.DeletionTimestamp != nil {
			deleting = append(deleting, d)
			continue
		}
		alive[d.UID] = d
		if d.Labels[labelComponent] == componentJobManager && (jmDep == nil || d.Name == app) {
			jmDep = d
		}
	}
	return jmDep, alive, deleting
}

// collectGarbage deletes the pods of deleted Deployments and the pods
// being deleted, then finishes the foreground deletion of the Deployments
// whose pods are gone. It returns the pods that remain.
func (m *member) collectGarbage(ctx context.Context, list []corev1.Pod, alive map[types.UID]*appsv1.Deployment, deleting []*appsv1.Deployment) ([]*corev1.Pod, error) {
	var pods []*corev1.Pod
	for i := range list {
		p := &list[i]
		owner := metav1.GetControllerOf(p)
		if p.DeletionTimestamp != nil || (owner != nil && owner.Kind == "Deployment" && alive[owner.UID] == nil) {
			if err := m.deletePod(ctx, p); err != nil {
				return nil, err
			}
			continue
		}
		pods = append(pods, p)
	}
	for _, d := range deleting {
		if err := m.finishDeletion(ctx, d, list); err != nil {
			return nil, err
		}
	}
	return pods, nil
}

// syncAllReplicas is the Deployment controller: pods for every replica of
// every template of the alive Deployments. It returns the pods then.
func (m *member) syncAllReplicas(ctx context.Context, alive map[types.UID]*appsv1.Deployment, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	for _, d := range alive {
		var err error
		if pods, err = m.syncReplicas(ctx, d, pods); err != nil {
			return nil, err
		}
	}
	return pods, nil
}

// runPods is the kubelet: every pod runs but those whose volumes do not
// mount (unmounted); a JobManager pod is ready once its JobManager
// (cluster) serves, and crash-loops when told to or when its JobManager
// exits at start (exit, nil when it does not). The pods are replaced in
// place by their updates.
func (m *member) runPods(ctx context.Context, key types.NamespacedName, cluster *flinkCluster, exit *jobManagerExit, pods []*corev1.Pod, unmounted map[types.UID]bool) error {
	crashLoop := m.clusterFaults(key).CrashLoop || exit != nil
	for i, p := range pods {
		if unmounted[p.UID] {
			continue
		}
		want := podState{ready: true}
		if p.Labels[labelComponent] == componentJobManager {
			want.ready = cluster != nil
			if crashLoop {
				want.waiting = "CrashLoopBackOff"
			}
			if exit != nil {
				want.log = exit.log
			}
		}
		var err error
		if pods[i], err = m.runPod(ctx, p, want); err != nil {
			return err
		}
	}
	return nil
}

// deletePod deletes a pod at once, as a kubelet confirming termination. A
// JobManager running in the pod stops first, so nobody reaches a
// JobManager whose pod is gone.
func (m *member) deletePod(ctx context.Context, p *corev1.Pod) error {
	key := types.NamespacedName{Namespace: p.Namespace, Name: p.Labels[labelApp]}
	m.stopCluster(key, func(c *flinkCluster) bool { return c.podUID == p.UID })
	m.forgetMounts(p.UID)
	err := m.client.Delete(ctx, p, client.GracePeriodSeconds(0), client.Preconditions{UID: &p.UID})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// syncJobManager runs the simulated JobManager while the JobManager
// Deployment has a running pod (one whose volumes mounted), restarting it
// when that pod is replaced.
func (m *member) syncJobManager(ctx context.Context, key types.NamespacedName, d *appsv1.Deployment, pods []*corev1.Pod, unmounted map[types.UID]bool) (*flinkCluster, error) {
	var leader *corev1.Pod
	if d != nil {
		for _, p := range pods {
			if replicaOf(p, d) && !unmounted[p.UID] && (leader == nil || p.Name < leader.Name) {
				leader = p
			}
		}
	}
	if m.clusterFaults(key).CrashLoop {
		leader = nil // the JobManager exits at start
	}
	m.stopCluster(key, func(c *flinkCluster) bool { return leader == nil || leader.UID != c.podUID })
	if old := m.cluster(key); leader == nil || old != nil {
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

// startupConfig reads a cluster's Flink configuration ConfigMap and its
// flat configuration, unless the JobManager cannot start with it: a
// *jobManagerExit when Flink's entrypoint exits, another error when the
// JobManager is not to start yet.
func (m *member) startupConfig(ctx context.Context, key types.NamespacedName) (*corev1.ConfigMap, map[string]string, error) {
	var cm corev1.ConfigMap
	if err := m.client.Get(ctx, types.NamespacedName{Namespace: key.Namespace, Name: configMapName(key.Name)}, &cm); err != nil {
		return nil, nil, fmt.Errorf("reading the Flink configuration: %w", err)
	}
	conf, err := flinkConfigFrom(&cm)
	if err != nil {
		return nil, nil, err
	}
	// A fault that survives redeploys: a configuration the JobManager
	// cannot start with (its pod never becomes ready).
	if msg := conf[StartupFailureKey]; msg != "" {
		return nil, nil, fmt.Errorf("simulated startup failure: %s", msg)
	}
	if exit := entrypointExit(conf); exit != nil {
		return nil, nil, exit
	}
	return &cm, conf, nil
}

func (m *member) startJobManager(ctx context.Context, key types.NamespacedName, d *appsv1.Deployment, pod *corev1.Pod) (*flinkCluster, error) {
	cm, conf, err := m.startupConfig(ctx, key)
	if err != nil {
		return nil, err
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
	cc.Storage = m.opts.Storage
	cc.Hooks = jobmanager.Hooks{TaskManagersWanted: func(int) { m.enqueue(key) }}
	if cc.ha {
		cc.Hooks.CheckpointCompleted = func(jobID string, cp jobmanager.Checkpoint) {
			m.haHook(key, "recording an HA checkpoint", func(ctx context.Context) error {
				return m.recordHACheckpoint(ctx, key.Namespace, cc.ClusterID, jobID, cp)
			})
		}
		if err := m.writeHALeader(ctx, key.Namespace, cc.ClusterID, pod.Status.PodIP, cc.restPort); err != nil {
			return nil, err
		}
		cc.Hooks.JobTerminated = func(jobID string) {
			m.haHook(key, "cleaning up HA metadata", func(ctx context.Context) error {
				return m.cleanUpJobHA(ctx, key.Namespace, cc.ClusterID, jobID)
			})
		}
		if !cc.Application {
			cc.Hooks.JobSubmitted = func(spec jobmanager.JobSpec) {
				m.haHook(key, "recording a job graph", func(ctx context.Context) error {
					return m.recordJobGraph(ctx, key.Namespace, cc.ClusterID, spec)
				})
			}
			if cc.RecoveredJobs, err = m.recoverJobGraphs(ctx, key.Namespace, cc.ClusterID); err != nil {
				return nil, err
			}
		}
	}
	cc.Hooks.SavepointCompleted = func(_ string, sp jobmanager.Checkpoint) { m.recordSavepoint(key, sp) }
	c := &flinkCluster{jm: jobmanager.New(cc.Config), podUID: pod.UID, config: cc}
	if cc.Native {
		c.tmTemplate, c.tmTemplateErr = loadTaskManagerTemplate(cm, conf)
	}
	faults := m.clusterFaults(key).JobManager
	if m.opts.RESTLatency > 0 && faults.Latency == 0 {
		faults.Latency = m.opts.RESTLatency
	}
	c.jm.SetFaults(faults)
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

// haHook runs a JobManager hook's write to HA metadata, logging failures.
func (m *member) haHook(key types.NamespacedName, what string, write func(context.Context) error) {
	ctx, cancel := context.WithTimeout(m.ctx, 10*time.Second)
	defer cancel()
	if err := write(ctx); err != nil {
		m.opts.Log.Info(what+" failed", "member", m.name, "cluster", key, "error", err.Error())
	}
}
