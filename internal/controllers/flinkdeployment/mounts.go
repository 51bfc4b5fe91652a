package flinkdeployment

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flink-hub/flink-hub/internal/boundedtext"
)

// ReasonFailedMount is the kubelet's event reason of a pod volume it
// cannot mount (a Secret or ConfigMap that does not exist), and the hub's
// event of a JobManager that cannot start for it.
const ReasonFailedMount = "FailedMount"

// maxMountEvents bounds the FailedMount events read about one pod: the
// kubelet counts up one event per volume, so a few is all there is.
const maxMountEvents = 20

// waitsForVolumes reports whether a pod has not started its containers
// and is not ready, upstream's rule for looking at its volume mounts:
// PodReadyToStartContainers false (Initialized on Kubernetes before 1.29,
// which has no such condition) and Ready false.
func waitsForVolumes(pod *corev1.Pod) bool {
	status := map[corev1.PodConditionType]corev1.ConditionStatus{}
	for _, c := range pod.Status.Conditions {
		status[c.Type] = c.Status
	}
	start, ok := status[corev1.PodReadyToStartContainers]
	if !ok {
		start = status[corev1.PodInitialized]
	}
	return start == corev1.ConditionFalse && status[corev1.PodReady] == corev1.ConditionFalse
}

// mountFailure is the message of the newest FailedMount event about a
// JobManager pod that waits for its volumes (waitsForVolumes), "" when
// there is none or the events cannot be read. The message is the member's
// text: bounded, and only ever quoted.
func (r *Reconciler) mountFailure(ctx context.Context, s *state, pod *corev1.Pod) string {
	if !waitsForVolumes(pod) {
		return ""
	}
	var events corev1.EventList
	err := s.cluster.GetAPIReader().List(ctx, &events, client.InNamespace(pod.Namespace),
		client.MatchingFields{"involvedObject.uid": string(pod.UID), "reason": ReasonFailedMount}, client.Limit(maxMountEvents),
		&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: "0"}})
	switch {
	case apierrors.IsForbidden(err):
		if _, said := r.eventsRefused.LoadOrStore(s.clusterName, true); !said {
			log.FromContext(ctx).Info("the member refuses to list events: a JobManager volume that does not mount is reported only at the readiness timeout; grant list on events (kubectl flinkhub cluster add)", "member", s.clusterName)
		}
		return ""
	case err != nil:
		log.FromContext(ctx).V(1).Info("cannot read the JobManager pod's events", "pod", pod.Name, "error", err.Error())
		return ""
	}
	var newest *corev1.Event
	for i := range events.Items {
		if e := &events.Items[i]; e.Reason == ReasonFailedMount && e.InvolvedObject.UID == pod.UID && (newest == nil || lastSeen(e).After(lastSeen(newest))) {
			newest = e
		}
	}
	if newest == nil {
		return ""
	}
	return boundedtext.Quote(newest.Message, maxCauseLength)
}

// lastSeen is when an event last happened, whichever way its recorder
// says it: a series, the last timestamp (core/v1 counts) or the event
// time.
func lastSeen(e *corev1.Event) time.Time {
	t := e.LastTimestamp.Time
	if e.Series != nil && e.Series.LastObservedTime.After(t) {
		t = e.Series.LastObservedTime.Time
	}
	if e.EventTime.After(t) {
		t = e.EventTime.Time
	}
	return t
}
