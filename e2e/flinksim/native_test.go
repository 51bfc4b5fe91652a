package flinksim_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/deployer/native"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// oldHubTemplate is the TaskManager pod template hubs wrote before they
// left Flink's own decorations out of it: the rpc port, _POD_IP_ADDRESS
// and the configuration volume and mount, which Flink adds again.
const oldHubTemplate = `apiVersion: v1
kind: Pod
metadata:
  labels:
    app.kubernetes.io/managed-by: flink-hub
spec:
  containers:
  - args: [kubernetes-taskmanager.sh]
    env:
    - name: _POD_IP_ADDRESS
      valueFrom: {fieldRef: {apiVersion: v1, fieldPath: status.podIP}}
    image: flink:1.18
    name: flink-main-container
    ports:
    - {containerPort: 6122, name: rpc, protocol: TCP}
    volumeMounts:
    - {mountPath: /opt/flink/conf, name: flink-config-volume}
  volumes:
  - configMap: {name: flink-config-tm}
    name: flink-config-volume
`

// hubTemplate is the TaskManager pod template the hub writes for the
// upstream session example.
func hubTemplate(t *testing.T) string {
	t.Helper()
	fd, err := examples.Named("basic-session-deployment-only/basic-session-deployment-only-example")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := native.New().Resources(fd, deployer.Inputs{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if cm, ok := o.(*corev1.ConfigMap); ok && cm.Data[flinkconf.TaskManagerPodTemplateFile] != "" {
			return cm.Data[flinkconf.TaskManagerPodTemplateFile]
		}
	}
	t.Fatal("the hub wrote no TaskManager pod template")
	return ""
}

// TestNativeTaskManagersFromThePodTemplate: the native JobManager builds
// its TaskManager pods from the pod template in its configuration
// ConfigMap and adds the rpc port and the configuration volume and mount
// as Flink does, without looking for duplicates. The hub's template gives
// running TaskManagers; a template that already holds them (what hubs
// wrote before) or a missing template gives none, and says why.
func TestNativeTaskManagersFromThePodTemplate(t *testing.T) {
	for _, tc := range []struct {
		name, template, wantErr string
	}{
		{name: "hub-template", template: hubTemplate(t)},
		{name: "decorated-template", template: oldHubTemplate, wantErr: `Duplicate value: "flink-config-volume"`},
		{name: "no-template", wantErr: "pod template file /opt/flink/conf/taskmanager-pod-template.yaml does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) { checkTaskManagersFrom(t, tc.template, tc.wantErr) })
	}
}

// checkTaskManagersFrom runs a job on a native session cluster whose
// TaskManager pod template is template ("" for no file) and checks that
// two TaskManagers run, from the template, or that none is created and
// the simulator says wantErr.
func checkTaskManagersFrom(t *testing.T, template, wantErr string) {
	ctx := context.Background()
	ns := namespace(t)
	sim, clientFor := startSimulator(t, flinksim.Options{Namespace: ns})
	c := nativeCluster("tm", ns, "kubernetes-session", "taskmanager.numberOfTaskSlots: 1\n"+
		"kubernetes.pod-template-file.taskmanager: /opt/flink/conf/"+flinkconf.TaskManagerPodTemplateFile+"\n")
	if template != "" {
		c.files = map[string]string{flinkconf.TaskManagerPodTemplateFile: template}
	}
	create(t, c)
	eventually(t, "JobManager ready", func() error { return runningPods(t, c, "jobmanager", 1) })
	runJar(t, ctx, clientFor(c.name, c.ns), "PK", api.JarRunRequestBody{Parallelism: 2})
	if wantErr != "" {
		eventually(t, "the TaskManager pod error", func() error {
			if msg := sim.TaskManagerPodError("m1", c.ns, c.name); !strings.Contains(msg, wantErr) {
				return fmt.Errorf("error %q, want %q", msg, wantErr)
			}
			return nil
		})
		if n := len(pods(t, c, "taskmanager")); n != 0 {
			t.Fatalf("%d TaskManager pods, want none", n)
		}
		return
	}
	eventually(t, "TaskManagers", func() error { return runningPods(t, c, "taskmanager", 2) })
	for _, p := range pods(t, c, "taskmanager") {
		if p.Labels["app.kubernetes.io/managed-by"] != "flink-hub" || len(p.Spec.Volumes) != 1 || p.Spec.Volumes[0].Name != "flink-config-volume" {
			t.Fatalf("TaskManager pod %s is not the template decorated once: labels %v, volumes %v", p.Name, p.Labels, p.Spec.Volumes)
		}
	}
	if msg := sim.TaskManagerPodError("m1", c.ns, c.name); msg != "" {
		t.Fatalf("TaskManager pod error %q", msg)
	}
}
