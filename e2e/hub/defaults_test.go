package hub

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/defaults"
	"github.com/flink-hub/flink-hub/internal/deployer"
)

// TestDefaultConfiguration runs the hub binaries with a fleet default and
// a default of member-1 (ConfigMaps of the hub namespace): a
// FlinkDeployment of member-1 runs with member-1's checkpoint directory, one
// of member-2 with the fleet's, and one that sets the key itself with its
// own. Changing member-1's default upgrades member-1's deployment that
// inherits it, and not the one that overrides it.
func TestDefaultConfiguration(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	m1, m2 := fleet.Members[0], fleet.Members[1]
	fleetDefaults := defaultsConfigMap("fleet-defaults", "", "state.checkpoints.dir: file:///fleet/checkpoints\n")
	memberDefaults := defaultsConfigMap("member-1-defaults", m1.Name, "state:\n  checkpoints.dir: file:///member-1/checkpoints\n")
	for _, cm := range []*corev1.ConfigMap{fleetDefaults, memberDefaults} {
		if err := fleet.Hub.Client.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = fleet.Hub.Client.Delete(context.Background(), cm) })
	}
	inherits := fromExample(t, ctx, m1, "basic/basic-example", "defaults", "inherits")
	own := fromExample(t, ctx, m1, "basic/basic-example", "defaults", "own")
	own.Spec.FlinkConfiguration.Raw = []byte(strings.Replace(string(own.Spec.FlinkConfiguration.Raw), "{", `{"state.checkpoints.dir":"file:///own/checkpoints",`, 1))
	other := fromExample(t, ctx, m2, "basic/basic-example", "defaults", "other")
	want := map[*v1beta1.FlinkDeployment]string{inherits: "file:///member-1/checkpoints", own: "file:///own/checkpoints", other: "file:///fleet/checkpoints"}
	members := map[*v1beta1.FlinkDeployment]*framework.ControlPlane{inherits: m1, own: m1, other: m2}
	for fd := range want {
		createStable(t, ctx, members[fd], fd)
	}
	for fd, dir := range want {
		awaitCheckpointDir(t, ctx, members[fd], fd, dir)
	}
	ownJM := jobManagerUID(t, ctx, m1, own)

	patch := []byte(`{"data":{"flink-conf.yaml":"state.checkpoints.dir: file:///member-1/checkpoints-v2\n"}}`)
	if err := fleet.Hub.Client.Patch(ctx, memberDefaults, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
	awaitCheckpointDir(t, ctx, m1, inherits, "file:///member-1/checkpoints-v2")
	waitStable(t, ctx, m1, inherits)
	if uid := jobManagerUID(t, ctx, m1, own); uid != ownJM {
		t.Error("the deployment that sets the key itself was redeployed by a default it does not use")
	}
}

// defaultsConfigMap is a default ConfigMap of the hub namespace, for member
// ("" for the fleet).
func defaultsConfigMap(name, member, conf string) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: hubNamespace, Name: name, Labels: map[string]string{defaults.Label: "true"}},
		Data: map[string]string{defaults.Key: conf}}
	if member != "" {
		cm.Annotations = map[string]string{defaults.MemberAnnotation: member}
	}
	return cm
}

// awaitCheckpointDir waits until fd's Flink configuration in member m has
// state.checkpoints.dir set to dir.
func awaitCheckpointDir(t *testing.T, ctx context.Context, m *framework.ControlPlane, fd *v1beta1.FlinkDeployment, dir string) {
	t.Helper()
	var last string
	if err := framework.Eventually(ctx, 2*time.Minute, func(ctx context.Context) (bool, error) {
		cm := &corev1.ConfigMap{}
		if err := m.Client.Get(ctx, client.ObjectKey{Namespace: fd.Namespace, Name: deployer.ConfigMapName(fd)}, cm); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		last = cm.Data["config.yaml"]
		return strings.Contains(last, "state.checkpoints.dir: "+dir+"\n"), nil
	}); err != nil {
		t.Fatalf("%s/%s in %s: state.checkpoints.dir %s wanted; configuration:\n%s", fd.Namespace, fd.Name, m.Name, dir, last)
	}
}

// jobManagerUID is the UID of fd's JobManager Deployment in member m.
func jobManagerUID(t *testing.T, ctx context.Context, m *framework.ControlPlane, fd *v1beta1.FlinkDeployment) types.UID {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := m.Client.Get(ctx, client.ObjectKey{Namespace: fd.Namespace, Name: fd.Name}, d); err != nil {
		t.Fatal(err)
	}
	return d.UID
}
