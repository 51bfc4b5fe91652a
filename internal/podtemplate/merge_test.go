package podtemplate

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestMerge(t *testing.T) {
	common := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"team": "a", "tier": "x"}},
		Spec: corev1.PodSpec{
			ServiceAccountName: "common",
			NodeSelector:       map[string]string{"disk": "ssd"},
			Containers: []corev1.Container{
				{Name: "flink-main-container", VolumeMounts: []corev1.VolumeMount{{Name: "logs", MountPath: "/opt/flink/log"}}},
				{Name: "fluentbit", Image: "fluent-bit:1"},
			},
			Volumes:     []corev1.Volume{{Name: "logs"}},
			Tolerations: []corev1.Toleration{{Key: "a"}},
		},
	}
	jm := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"tier": "jm"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{
				{Name: "flink-main-container", Env: []corev1.EnvVar{{Name: "X", Value: "1"}}},
			},
			InitContainers: []corev1.Container{{Name: "fetch", Image: "busybox"}},
			Volumes:        []corev1.Volume{{Name: "downloads"}},
			Tolerations:    []corev1.Toleration{{Key: "b"}},
		},
	}
	got, err := Merge(common, jm, true)
	if err != nil {
		t.Fatal(err)
	}
	if got.Labels["team"] != "a" || got.Labels["tier"] != "jm" {
		t.Errorf("labels %v: want team=a from common, tier=jm from the role template", got.Labels)
	}
	if got.Spec.ServiceAccountName != "common" || got.Spec.NodeSelector["disk"] != "ssd" {
		t.Errorf("common fields lost: %+v", got.Spec)
	}
	if n := len(got.Spec.Containers); n != 2 {
		t.Fatalf("containers merged by name: got %d, want 2", n)
	}
	main := got.Spec.Containers[0]
	if main.Name != "flink-main-container" || len(main.VolumeMounts) != 1 || len(main.Env) != 1 {
		t.Errorf("main container not merged: %+v", main)
	}
	if got.Spec.Containers[1].Name != "fluentbit" {
		t.Errorf("sidecar lost: %+v", got.Spec.Containers)
	}
	if len(got.Spec.Volumes) != 2 || got.Spec.Volumes[1].Name != "downloads" {
		t.Errorf("volumes: %+v", got.Spec.Volumes)
	}
	if len(got.Spec.InitContainers) != 1 {
		t.Errorf("init containers: %+v", got.Spec.InitContainers)
	}
	if len(got.Spec.Tolerations) != 1 || got.Spec.Tolerations[0].Key != "b" {
		t.Errorf("unnamed lists merge by position: %+v", got.Spec.Tolerations)
	}
	if len(common.Spec.Containers[0].Env) != 0 || common.Labels["tier"] != "x" {
		t.Error("Merge changed its input")
	}
}

func TestMergeNil(t *testing.T) {
	p := &corev1.Pod{Spec: corev1.PodSpec{Hostname: "h"}}
	for _, tc := range []struct{ base, overlay *corev1.Pod }{{nil, p}, {p, nil}} {
		got, err := Merge(tc.base, tc.overlay, false)
		if err != nil || got.Spec.Hostname != "h" || got == p {
			t.Errorf("Merge(%v, %v) = %v, %v: want a copy of the non-nil one", tc.base, tc.overlay, got, err)
		}
	}
	if got, err := Merge(nil, nil, false); err != nil || got == nil {
		t.Errorf("Merge(nil, nil) = %v, %v", got, err)
	}
}

// TestMergeByPosition: without merge-arrays-by-name, as upstream's default,
// the i-th items merge whatever their names.
func TestMergeByPosition(t *testing.T) {
	common := &corev1.Pod{Spec: corev1.PodSpec{
		Containers: []corev1.Container{
			{Name: "flink-main-container", VolumeMounts: []corev1.VolumeMount{{Name: "logs", MountPath: "/opt/flink/log"}}},
			{Name: "fluentbit", Image: "fluent-bit:1"},
		},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "a"}, {Name: "b"}},
	}}
	tm := &corev1.Pod{Spec: corev1.PodSpec{
		Containers: []corev1.Container{
			{Name: "sidecar", Image: "sidecar:1"},
			{Name: "fluentbit", Image: "fluent-bit:2"},
			{Name: "third"},
		},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "c"}},
	}}
	for _, tc := range []struct {
		byName  bool
		names   []string
		images  []string
		secrets []string
	}{
		{byName: false, names: []string{"sidecar", "fluentbit", "third"}, images: []string{"sidecar:1", "fluent-bit:2", ""}, secrets: []string{"c", "b"}},
		{byName: true, names: []string{"flink-main-container", "fluentbit", "sidecar", "third"}, images: []string{"", "fluent-bit:2", "sidecar:1", ""}, secrets: []string{"a", "b", "c"}},
	} {
		got, err := Merge(common, tm, tc.byName)
		if err != nil {
			t.Fatal(err)
		}
		var names, images, secrets []string
		for _, c := range got.Spec.Containers {
			names, images = append(names, c.Name), append(images, c.Image)
		}
		for _, s := range got.Spec.ImagePullSecrets {
			secrets = append(secrets, s.Name)
		}
		if !slices.Equal(names, tc.names) || !slices.Equal(images, tc.images) || !slices.Equal(secrets, tc.secrets) {
			t.Errorf("byName=%v: containers %v images %v secrets %v; want %v %v %v", tc.byName, names, images, secrets, tc.names, tc.images, tc.secrets)
		}
		if !tc.byName && len(got.Spec.Containers[0].VolumeMounts) != 1 {
			t.Errorf("by position the first items merge deep: %+v", got.Spec.Containers[0])
		}
	}
}
