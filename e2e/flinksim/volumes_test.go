package flinksim_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flink-hub/flink-hub/e2e/flinksim"
)

// TestMissingSecretVolumeFailsMount: as a kubelet, a pod whose secret
// volume names a Secret that does not exist stays Pending in
// ContainerCreating (PodReadyToStartContainers false, not ready, no IP),
// with a Warning FailedMount event about the pod, worded as Kubernetes
// words it and counted up at each attempt; an optional missing ConfigMap
// stops nothing. Once the Secret exists the pod starts.
func TestMissingSecretVolumeFailsMount(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	_, clientFor := startSimulator(t, flinksim.Options{Namespace: ns})
	c := nativeCluster("unmounted", ns, "kubernetes-session", "")
	d := deployment(c, c.name, "jobmanager", 1, c.command, nil)
	d.Spec.Template.Spec.Volumes = []corev1.Volume{
		{Name: "creds", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "flink-creds"}}},
		{Name: "extra", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Optional: ptr.To(true)}}},
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "flink-config-" + c.name}, Data: map[string]string{"config.yaml": ""}}
	for _, o := range []client.Object{cm, d} {
		if err := member.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	var pod corev1.Pod
	eventually(t, "pod pending in ContainerCreating", func() error {
		ps := pods(t, c, "jobmanager")
		if len(ps) != 1 {
			return fmt.Errorf("pods %d", len(ps))
		}
		pod = ps[0]
		return pendingInContainerCreating(&pod)
	})
	const want = `MountVolume.SetUp failed for volume "creds" : secret "flink-creds" not found`
	eventually(t, "FailedMount repeated", func() error {
		evs := mountEvents(t, ctx, &pod)
		if len(evs) != 1 || evs[0].Message != want || evs[0].Type != corev1.EventTypeWarning || evs[0].Source.Component != "kubelet" || evs[0].Count < 2 {
			return fmt.Errorf("FailedMount events %+v, want one, counted up, saying %q", evs, want)
		}
		return nil
	})
	if err := pendingInContainerCreating(&pods(t, c, "jobmanager")[0]); err != nil {
		t.Fatalf("after the repeats: %v", err)
	}

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "flink-creds"}, StringData: map[string]string{"k": "v"}}
	if err := member.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	eventually(t, "JobManager ready once the Secret exists", func() error { return runningPods(t, c, "jobmanager", 1) })
	if _, err := clientFor(c.name, c.ns).Config(ctx); err != nil {
		t.Fatal(err)
	}
}

// pendingInContainerCreating says how p differs from a pod whose volumes
// do not mount.
func pendingInContainerCreating(p *corev1.Pod) error {
	conds := map[corev1.PodConditionType]corev1.ConditionStatus{}
	for _, c := range p.Status.Conditions {
		conds[c.Type] = c.Status
	}
	switch {
	case p.Status.Phase != corev1.PodPending || p.Status.PodIP != "":
		return fmt.Errorf("phase %s, IP %q", p.Status.Phase, p.Status.PodIP)
	case conds[corev1.PodReadyToStartContainers] != corev1.ConditionFalse || conds[corev1.PodReady] != corev1.ConditionFalse || conds[corev1.PodScheduled] != corev1.ConditionTrue:
		return fmt.Errorf("conditions %v", conds)
	case len(p.Status.ContainerStatuses) != 1 || p.Status.ContainerStatuses[0].State.Waiting == nil || p.Status.ContainerStatuses[0].State.Waiting.Reason != "ContainerCreating":
		return fmt.Errorf("container statuses %+v", p.Status.ContainerStatuses)
	}
	return nil
}

// mountEvents are the core/v1 FailedMount events about p, found as
// clients find them: by the involved object's UID and the reason.
func mountEvents(t *testing.T, ctx context.Context, p *corev1.Pod) []corev1.Event {
	t.Helper()
	var list corev1.EventList
	sel := client.MatchingFields{"involvedObject.uid": string(p.UID), "reason": flinksim.ReasonFailedMount}
	if err := member.Client.List(ctx, &list, client.InNamespace(p.Namespace), sel); err != nil {
		t.Fatal(err)
	}
	return list.Items
}
