package hub

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
)

// TestUnregisteringAMemberKeepsItsFlinkClusters deletes a member's Secret
// while its Flink cluster runs: the member is disengaged, nothing in it is
// deleted, and registering it again resumes reconciling.
func TestUnregisteringAMemberKeepsItsFlinkClusters(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	m := fleet.Members[1]
	namespace(t, ctx, m, "unregister")
	all, err := examples.Load()
	if err != nil {
		t.Fatal(err)
	}
	var fd *v1beta1.FlinkDeployment
	for _, ex := range all {
		if ex.Name == "basic/basic-example" {
			fd = ex.Typed.DeepCopy()
		}
	}
	fd.Namespace = "unregister"
	got := createStable(t, ctx, m, fd)
	jm := &appsv1.Deployment{}
	if err := m.Client.Get(ctx, client.ObjectKeyFromObject(fd), jm); err != nil {
		t.Fatal(err)
	}

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: hubNamespace, Name: m.Name}}
	if err := fleet.Hub.Client.Delete(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		err := fleet.Hub.Client.Get(ctx, types.NamespacedName{Namespace: hubNamespace, Name: m.Name}, &hubv1alpha1.MemberCluster{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		t.Fatalf("MemberCluster not removed with its Secret: %v", err)
	}
	if err := m.Client.Get(ctx, client.ObjectKeyFromObject(fd), got); err != nil || !got.DeletionTimestamp.IsZero() {
		t.Fatalf("the FlinkDeployment was touched after its member was unregistered: %v %v", err, got.DeletionTimestamp)
	}
	after := &appsv1.Deployment{}
	if err := m.Client.Get(ctx, client.ObjectKeyFromObject(fd), after); err != nil || after.UID != jm.UID || !after.DeletionTimestamp.IsZero() {
		t.Fatalf("the JobManager was touched after its member was unregistered: %v", err)
	}

	// Register again: reconciling resumes. A spec change that needs no
	// redeploy (a checkpoint nonce) shows it: only a reconcile of this
	// member records the new generation as observed.
	kubeconfig, err := m.HubKubeconfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secret = &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: hubNamespace, Name: m.Name, Labels: map[string]string{memberconfig.SecretLabel: "true"}},
		Data:       map[string][]byte{memberconfig.SecretKey: kubeconfig},
	}
	if err := fleet.Hub.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	patched := got.DeepCopy()
	if err := m.Client.Patch(ctx, patched, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"job":{"checkpointTriggerNonce":1}}}`))); err != nil {
		t.Fatal(err)
	}
	if err := framework.Eventually(ctx, 2*time.Minute, func(ctx context.Context) (bool, error) {
		err := m.Client.Get(ctx, client.ObjectKeyFromObject(fd), got)
		return err == nil && got.Status.ObservedGeneration == patched.Generation && stable(got), err
	}); err != nil {
		t.Fatalf("not reconciled again after re-registration (observed generation %d, want %d): %v", got.Status.ObservedGeneration, patched.Generation, err)
	}
	// Across the whole time unregistered, the cluster kept running.
	if err := m.Client.Get(ctx, client.ObjectKeyFromObject(fd), after); err != nil || after.UID != jm.UID {
		t.Fatalf("the JobManager was replaced while its member was unregistered: %v", err)
	}
}
