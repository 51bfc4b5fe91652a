package flinksim

import (
	"context"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// podState is what the kubelet makes of a pod: ready or not, and a
// container waiting reason such as CrashLoopBackOff.
type podState struct {
	ready   bool
	waiting string
	// log is the end of the log of the container's last run, its
	// termination message where the container asks for it
	// (terminationMessagePolicy FallbackToLogsOnError: Flink writes no
	// termination message file).
	log string
}

func waitingReason(p *corev1.Pod) string {
	for _, c := range p.Status.ContainerStatuses {
		if c.State.Waiting != nil {
			return c.State.Waiting.Reason
		}
	}
	return ""
}

// runPod gives a pod an IP and the status of a running pod in the wanted
// state, unless it has it already.
func (m *member) runPod(ctx context.Context, p *corev1.Pod, want podState) (*corev1.Pod, error) {
	ready := want.ready
	if p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" && podReady(p) == ready && waitingReason(p) == want.waiting {
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
		cond(corev1.PodScheduled, true), cond(corev1.PodReadyToStartContainers, true), cond(corev1.PodInitialized, true),
		cond(corev1.ContainersReady, ready), cond(corev1.PodReady, ready),
	}
	restarts := map[string]int32{}
	for _, c := range p.Status.ContainerStatuses {
		restarts[c.Name] = c.RestartCount
	}
	p.Status.ContainerStatuses = nil
	for _, c := range p.Spec.Containers {
		st := corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: "flinksim://" + c.Image, Ready: ready, Started: ptr.To(true), RestartCount: restarts[c.Name],
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: *p.Status.StartTime}},
		}
		if want.waiting != "" {
			st.Started, st.RestartCount = ptr.To(false), st.RestartCount+1
			st.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: want.waiting, Message: "back-off restarting failed container " + c.Name}}
			st.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}
			if c.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError {
				st.LastTerminationState.Terminated.Message = want.log
			}
		}
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, st)
	}
	return m.writePodStatus(ctx, p, "running")
}

// writePodStatus writes p's status (what: the kubelet's doing, for the
// error) and returns p; a pod gone or changed meanwhile is left to the
// next reconcile.
func (m *member) writePodStatus(ctx context.Context, p *corev1.Pod, what string) (*corev1.Pod, error) {
	if err := m.client.Status().Update(ctx, p); err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return p, nil
		}
		return nil, fmt.Errorf("%s pod %s/%s: %w", what, p.Namespace, p.Name, err)
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
