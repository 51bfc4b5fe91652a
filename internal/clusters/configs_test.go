package clusters_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/defaults"
)

// TestEffectiveConfigurationServed: the fleet API serves a FlinkDeployment's
// effective configuration (`kubectl flinkhub get config`): its own keys over
// its member's default over the fleet's, each with its source, and the value
// of a sensitive key masked; an unknown FlinkDeployment is not found.
func TestEffectiveConfigurationServed(t *testing.T) {
	const ns = "configs"
	ctx := t.Context()
	member := fleet.Members[2]
	hub := startHub(t, testOptions(ns))
	for _, cm := range []*corev1.ConfigMap{
		defaultsMap(ns, "fleet", "", "state.checkpoints.dir: s3://fleet/cp\nstate.savepoints.dir: s3://fleet/sp\n"),
		defaultsMap(ns, "member", member.Name, "state.checkpoints.dir: s3://member/cp\ns3.secret-key: hunter2\n"),
	} {
		if err := fleet.Hub.Client.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	if err := fleet.Hub.Client.Create(ctx, memberSecret(ns, member.Name, hubKubeconfig(t, member))); err != nil {
		t.Fatal(err)
	}
	awaitEngaged(t, hub, member.Name)
	fd := &flinkv1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "config-apps", Name: "own"},
		Spec: flinkv1beta1.FlinkDeploymentSpec{Image: "flink:2.2", FlinkVersion: "v2_2"}}
	fd.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"state.savepoints.dir":"s3://own/sp"}`)}
	if err := member.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fd.Namespace}}); client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
	if err := member.Client.Create(ctx, fd); err != nil {
		t.Fatal(err)
	}
	want := []fleetv1.Setting{
		{Key: "s3.secret-key", Value: "******", Source: defaults.SourceMember},
		{Key: "state.checkpoints.dir", Value: "s3://member/cp", Source: defaults.SourceMember},
		{Key: "state.savepoints.dir", Value: "s3://own/sp", Source: defaults.SourceResource},
	}
	eventually(t, 30*time.Second, "the effective configuration", func() error {
		var got fleetv1.Configuration
		if err := fleetGet(t, hub, fmt.Sprintf("%s%s/%s/%s", fleetv1.ConfigPath, member.Name, fd.Namespace, fd.Name), &got); err != nil {
			return err
		}
		if fmt.Sprint(got.Items) != fmt.Sprint(want) {
			return fmt.Errorf("items %v, want %v", got.Items, want)
		}
		return nil
	})
	err := fleetGet(t, hub, fleetv1.ConfigPath+member.Name+"/config-apps/nobody", &fleetv1.Configuration{})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("an unknown FlinkDeployment: %v, want 404", err)
	}
	if strings.Contains(logs.String(), "hunter2") {
		t.Error("a default's secret value reached the logs")
	}
}

// defaultsMap is a default ConfigMap of hub namespace ns, for member (""
// for the fleet).
func defaultsMap(ns, name, member, conf string) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{defaults.Label: "true"}},
		Data: map[string]string{defaults.Key: conf}}
	if member != "" {
		cm.Annotations = map[string]string{defaults.MemberAnnotation: member}
	}
	return cm
}
