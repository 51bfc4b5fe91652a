package flinksim

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	// ReasonFailedMount is the kubelet's event reason of a volume it
	// cannot mount.
	ReasonFailedMount = "FailedMount"
	// mountRetryFirst and mountRetryMax bound the kubelet's exponential
	// backoff between mount attempts (Kubernetes: 500 ms doubling up to
	// 2m2s; the simulator caps it sooner so that a volume that appears is
	// mounted within seconds).
	mountRetryFirst = 500 * time.Millisecond
	mountRetryMax   = 4 * time.Second
)

// mountState is the kubelet's memory of a pod whose volumes do not mount:
// the FailedMount event recorded per volume (for the repeats), and when it
// tries again.
type mountState struct {
	events   map[string]*corev1.Event
	failures int
	next     time.Time
}

// missingVolumes are the FailedMount messages of the pod's secret and
// configMap volumes whose object does not exist and which are not
// optional, by volume name, as the kubelet words them; none when every
// volume mounts.
func (m *member) missingVolumes(ctx context.Context, p *corev1.Pod) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range p.Spec.Volumes {
		var kind, name string
		var obj client.Object
		switch {
		case v.Secret != nil && !ptrTrue(v.Secret.Optional):
			kind, name, obj = "secret", v.Secret.SecretName, &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}}
		case v.ConfigMap != nil && !ptrTrue(v.ConfigMap.Optional):
			kind, name, obj = "configmap", v.ConfigMap.Name, &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}}
		default:
			continue
		}
		err := m.client.Get(ctx, types.NamespacedName{Namespace: p.Namespace, Name: name}, obj)
		switch {
		case apierrors.IsNotFound(err):
			out[v.Name] = fmt.Sprintf("MountVolume.SetUp failed for volume %q : %s %q not found", v.Name, kind, name)
		case err != nil:
			return nil, fmt.Errorf("mounting volume %q of pod %s/%s: %w", v.Name, p.Namespace, p.Name, err)
		}
	}
	return out, nil
}

func ptrTrue(b *bool) bool { return b != nil && *b }

// mountVolumes is the kubelet's volume manager for the pods that have not
// started: a pod whose secret or configMap volume is missing stays Pending
// in ContainerCreating, with a FailedMount event per volume repeated at
// each attempt (a count bump, as the kubelet's event recorder does), tried
// again with backoff until the object appears. It returns the pods that
// cannot start (by UID) and when to try again (0: nothing to retry).
func (m *member) mountVolumes(ctx context.Context, pods []*corev1.Pod) (map[types.UID]bool, time.Duration, error) {
	blocked := map[types.UID]bool{}
	var retry time.Duration
	for i, p := range pods {
		if p.Status.Phase == corev1.PodRunning {
			continue // mounted at start: the kubelet does not look again
		}
		now := time.Now()
		m.mu.Lock()
		st := m.mounts[p.UID]
		m.mu.Unlock()
		if st != nil && now.Before(st.next) {
			blocked[p.UID], retry = true, minRetry(retry, st.next.Sub(now))
			continue
		}
		missing, err := m.missingVolumes(ctx, p)
		if err != nil {
			return nil, 0, err
		}
		if len(missing) == 0 {
			m.forgetMounts(p.UID)
			continue
		}
		if st == nil {
			st = &mountState{events: map[string]*corev1.Event{}}
		}
		st.next = now.Add(min(mountRetryFirst<<min(st.failures, 8), mountRetryMax))
		st.failures++
		m.mu.Lock()
		m.mounts[p.UID] = st
		m.mu.Unlock()
		blocked[p.UID], retry = true, minRetry(retry, st.next.Sub(now))
		if pods[i], err = m.holdPending(ctx, p); err != nil {
			return nil, 0, err
		}
		if err := m.recordFailedMounts(ctx, p, st, missing); err != nil {
			return nil, 0, err
		}
	}
	return blocked, retry, nil
}

// minRetry is the sooner of two retries, 0 meaning none.
func minRetry(a, b time.Duration) time.Duration {
	if a == 0 || b == 0 {
		return max(a, b)
	}
	return min(a, b)
}

// forgetMounts drops what the kubelet remembers of a pod's failed mounts.
func (m *member) forgetMounts(uid types.UID) {
	m.mu.Lock()
	delete(m.mounts, uid)
	m.mu.Unlock()
}

// holdPending writes the status the kubelet gives a pod whose volumes do
// not mount: Pending, no IP, PodReadyToStartContainers false (the sandbox
// is not made before the volumes mount), not ready, every container
// waiting in ContainerCreating (PodInitializing behind init containers).
func (m *member) holdPending(ctx context.Context, p *corev1.Pod) (*corev1.Pod, error) {
	if p.Status.Phase == corev1.PodPending && len(p.Status.Conditions) > 0 {
		return p, nil // held already
	}
	p = p.DeepCopy()
	now := metav1.Now()
	p.Status.Phase = corev1.PodPending
	p.Status.HostIP, p.Status.HostIPs = "10.0.0.1", []corev1.HostIP{{IP: "10.0.0.1"}}
	if p.Status.StartTime == nil {
		p.Status.StartTime = &now
	}
	initialized := corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now}
	waiting := "ContainerCreating"
	p.Status.InitContainerStatuses = nil
	if len(p.Spec.InitContainers) > 0 {
		initialized.Status, initialized.Reason = corev1.ConditionFalse, "ContainersNotInitialized"
		initialized.Message = "containers with incomplete status: [" + containerNames(p.Spec.InitContainers) + "]"
		p.Status.InitContainerStatuses = waitingStatuses(p.Spec.InitContainers, "PodInitializing")
		waiting = "PodInitializing"
	}
	unready := "containers with unready status: [" + containerNames(p.Spec.Containers) + "]"
	p.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionFalse, LastTransitionTime: now},
		initialized,
		{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", Message: unready, LastTransitionTime: now},
		{Type: corev1.ContainersReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", Message: unready, LastTransitionTime: now},
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
	}
	p.Status.ContainerStatuses = waitingStatuses(p.Spec.Containers, waiting)
	return m.writePodStatus(ctx, p, "holding pending")
}

func containerNames(cs []corev1.Container) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, " ")
}

// waitingStatuses are the statuses of containers not created yet.
func waitingStatuses(cs []corev1.Container, reason string) []corev1.ContainerStatus {
	out := make([]corev1.ContainerStatus, len(cs))
	for i, c := range cs {
		out[i] = corev1.ContainerStatus{Name: c.Name, Image: c.Image, Started: new(bool),
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
	}
	return out
}

// recordFailedMounts records one failed attempt of each missing volume as
// the kubelet's event recorder does: a core/v1 Warning event about the
// pod, from the kubelet on its node, created at the first failure and
// counted up (count, lastTimestamp) at each repeat.
func (m *member) recordFailedMounts(ctx context.Context, p *corev1.Pod, st *mountState, missing map[string]string) error {
	now := metav1.Now()
	for vol, msg := range missing {
		if ev := st.events[vol]; ev != nil && ev.Message == msg {
			patch := fmt.Sprintf(`{"count":%d,"lastTimestamp":%q}`, ev.Count+1, now.UTC().Format(time.RFC3339))
			err := m.client.Patch(ctx, ev.DeepCopy(), client.RawPatch(types.StrategicMergePatchType, []byte(patch)))
			if err == nil {
				ev.Count++
				continue
			}
			if !apierrors.IsNotFound(err) {
				return fmt.Errorf("event %s: %w", ev.Name, err)
			}
		}
		ev := &corev1.Event{
			ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: fmt.Sprintf("%v.%x", p.Name, time.Now().UnixNano())},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: p.Namespace, Name: p.Name, UID: p.UID,
				ResourceVersion: p.ResourceVersion},
			Reason: ReasonFailedMount, Message: msg, Type: corev1.EventTypeWarning, Count: 1,
			Source:         corev1.EventSource{Component: "kubelet", Host: nodeName},
			FirstTimestamp: now, LastTimestamp: now, ReportingController: "kubelet", ReportingInstance: nodeName,
		}
		if err := m.client.Create(ctx, ev); err != nil {
			return fmt.Errorf("event %s: %w", ev.Name, err)
		}
		st.events[vol] = ev
	}
	return nil
}
