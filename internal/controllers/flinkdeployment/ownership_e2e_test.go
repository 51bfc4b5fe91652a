package flinkdeployment_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/deployer"
)

// TestUpgradeRemovesWhatTheSpecNoLongerSets: the objects a first
// deployment creates (with a create, not an apply: deployer.Claimer) are
// the hub's to apply afterwards, so an upgrade that drops a log
// configuration file removes it from the configuration ConfigMap, which
// outlives the upgrade, and the hub's fields end up in its Apply entry
// alone.
func TestUpgradeRemovesWhatTheSpecNoLongerSets(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd := example(t, "basic/basic-example", lifecycleNS, "dropped-file")
	fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeStateless
	fd.Spec.LogConfiguration = map[string]string{"logback-console.xml": "<configuration/>"}
	create(t, ctx, fd)
	got := waitFor(t, ctx, fd, 2*time.Minute, "running", running)
	key := client.ObjectKey{Namespace: fd.Namespace, Name: deployer.ConfigMapName(fd)}
	cm := &corev1.ConfigMap{}
	if err := fleet.Members[0].Client.Get(ctx, key, cm); err != nil {
		t.Fatal(err)
	}
	if _, ok := cm.Data["logback-console.xml"]; !ok {
		t.Fatalf("the ConfigMap lacks the log configuration: %v", cm.Data)
	}
	patchSpec(t, ctx, fd, `{"spec":{"logConfiguration":null}}`)
	waitFor(t, ctx, fd, 2*time.Minute, "the upgrade running", func(now *v1beta1.FlinkDeployment) bool {
		return now.Generation > got.Generation && now.Status.ObservedGeneration == now.Generation && running(now)
	})
	err := framework.Eventually(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		if err := fleet.Members[0].Client.Get(ctx, key, cm); err != nil {
			return false, err
		}
		_, stale := cm.Data["logback-console.xml"]
		return !stale, nil
	})
	if err != nil {
		t.Fatalf("the upgrade left the dropped log configuration in %v: %v", cm.Data, err)
	}
	for _, f := range cm.ManagedFields {
		if f.Manager == "flink-hub" && f.Operation != metav1.ManagedFieldsOperationApply {
			t.Errorf("the hub's fields are in a %s entry: %+v", f.Operation, cm.ManagedFields)
		}
	}
}
