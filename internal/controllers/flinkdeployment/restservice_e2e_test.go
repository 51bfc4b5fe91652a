package flinkdeployment_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// restService is fd's REST Service in the member, nil if there is none.
func restService(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment) *corev1.Service {
	t.Helper()
	svc := &corev1.Service{}
	err := fleet.Members[0].Client.Get(ctx, client.ObjectKey{Namespace: fd.Namespace, Name: deployer.RestServiceName(fd)}, svc)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// exposedAs patches fd's REST Service exposure to typ.
func exposedAs(typ string) string {
	return `{"spec":{"flinkConfiguration":{"kubernetes.rest-service.exposed.type":"` + typ + `"}}}`
}

// reconciledExposure is the exposed type of fd's last reconciled spec.
func reconciledExposure(fd *v1beta1.FlinkDeployment) string {
	var last struct{ Spec v1beta1.FlinkDeploymentSpec }
	if json.Unmarshal([]byte(fd.Status.ReconciliationStatus.LastReconciledSpec), &last) != nil {
		return ""
	}
	conf, _ := last.Spec.FlatConfiguration()
	return conf["kubernetes.rest-service.exposed.type"]
}

// awaitUpgradedTo waits until fd runs the spec exposed as typ, stable
// and without status.error.
func awaitUpgradedTo(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment, typ string) *v1beta1.FlinkDeployment {
	t.Helper()
	got := waitFor(t, ctx, fd, 2*time.Minute, "upgraded and running", func(got *v1beta1.FlinkDeployment) bool {
		return running(got) && got.Status.ObservedGeneration == got.Generation && reconciledExposure(got) == typ
	})
	if got.Status.Error != "" {
		t.Errorf("status.error %q", got.Status.Error)
	}
	return got
}

// TestRestServiceExposureChangeLands: a running FlinkDeployment whose
// kubernetes.rest-service.exposed.type changes between headless and an
// allocated cluster IP (which the apiserver cannot change in place: until
// 2026-12-07 such an upgrade stopped the job and then failed to apply the
// Service forever, or kept it headless without a word) is upgraded in
// both modes and every upgrade mode: the job runs again from the state
// its mode keeps, the REST Service is a new one of the asked type, owned
// by the FlinkDeployment, and status.error is empty. A change the
// apiserver makes in place keeps the Service.
func TestRestServiceExposureChangeLands(t *testing.T) {
	cases := []struct {
		name     string
		mode     v1beta1.KubernetesDeploymentMode
		upgrade  v1beta1.UpgradeMode
		from, to string
		replaced bool
	}{
		{"native-savepoint", v1beta1.ModeNative, v1beta1.UpgradeModeSavepoint, "ClusterIP", "Headless_ClusterIP", true},
		{"standalone-savepoint", v1beta1.ModeStandalone, v1beta1.UpgradeModeSavepoint, "ClusterIP", "Headless_ClusterIP", true},
		{"native-stateless", v1beta1.ModeNative, v1beta1.UpgradeModeStateless, "LoadBalancer", "Headless_ClusterIP", true},
		{"standalone-last-state", v1beta1.ModeStandalone, v1beta1.UpgradeModeLastState, "ClusterIP", "Headless_ClusterIP", true},
		{"native-last-state-back", v1beta1.ModeNative, v1beta1.UpgradeModeLastState, "Headless_ClusterIP", "ClusterIP", true},
		{"standalone-stateless-nodeport", v1beta1.ModeStandalone, v1beta1.UpgradeModeStateless, "Headless_ClusterIP", "NodePort", true},
		{"native-savepoint-in-place", v1beta1.ModeNative, v1beta1.UpgradeModeSavepoint, "NodePort", "ClusterIP", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			fd := withSettings(haExample(t, "rest-"+tc.name, tc.upgrade), `"kubernetes.rest-service.exposed.type":"`+tc.from+`"`)
			fd.Spec.Mode = tc.mode
			fd = deployRunning(t, ctx, fd)
			oldJM, oldSvc := jobManager(t, ctx, fd), restService(t, ctx, fd)
			patchSpec(t, ctx, fd, exposedAs(tc.to))
			got := awaitUpgradedTo(t, ctx, fd, tc.to)
			if jobManager(t, ctx, fd).UID == oldJM.UID {
				t.Error("the JobManager was not replaced")
			}
			job := simJob(fd)
			if job == nil {
				t.Fatal("no job after the upgrade")
			}
			checkRestored(t, tc.upgrade, got, job.Spec.Restore)
			checkExposed(t, ctx, got, oldSvc, tc.to, tc.replaced)
		})
	}
}

// checkExposed checks that fd's REST Service is exposed as typ, owned by
// fd, and a new Service (not old) when replaced.
func checkExposed(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment, old *corev1.Service, typ string, replaced bool) {
	t.Helper()
	svc := restService(t, ctx, fd)
	if svc == nil {
		t.Fatal("no REST Service")
	}
	headless := svc.Spec.ClusterIP == corev1.ClusterIPNone
	wantType := corev1.ServiceType(typ)
	if typ == "Headless_ClusterIP" {
		wantType = corev1.ServiceTypeClusterIP
	}
	if headless != (typ == "Headless_ClusterIP") || svc.Spec.Type != wantType {
		t.Errorf("REST Service type %s clusterIP %q, want it exposed as %s", svc.Spec.Type, svc.Spec.ClusterIP, typ)
	}
	if (svc.UID != old.UID) != replaced {
		t.Errorf("REST Service replaced: %v, want %v", svc.UID != old.UID, replaced)
	}
	if !metav1.IsControlledBy(svc, fd) {
		t.Errorf("REST Service owners %+v", svc.OwnerReferences)
	}
}

// TestForeignRestServiceIsNotReplaced: a Service named as the REST
// Service that the FlinkDeployment does not own, with a cluster IP the
// spec's exposure cannot have, is left alone: status.error says so and
// what to do; once its owner deletes it, the FlinkDeployment deploys.
func TestForeignRestServiceIsNotReplaced(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	fd := withSettings(haExample(t, "rest-foreign", v1beta1.UpgradeModeSavepoint), `"kubernetes.rest-service.exposed.type":"Headless_ClusterIP"`)
	namespace(t, ctx, fd.Namespace)
	c := fleet.Members[0].Client
	foreign := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: deployer.RestServiceName(fd)},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "web", Port: 80}}},
	}
	if err := c.Create(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	create(t, ctx, fd)
	got := waitFor(t, ctx, fd, time.Minute, "status.error", func(fd *v1beta1.FlinkDeployment) bool { return fd.Status.Error != "" })
	if p := failure(got); p.Reason != problem.ReconcileFailed || !strings.Contains(p.Message, "not this FlinkDeployment's") || !strings.Contains(p.Message, foreign.Name) {
		t.Errorf("status.error %+v", p)
	}
	if svc := restService(t, ctx, fd); svc == nil || svc.UID != foreign.UID || svc.Spec.ClusterIP != foreign.Spec.ClusterIP || len(svc.OwnerReferences) != 0 {
		t.Fatalf("the foreign Service was touched: %+v", svc)
	}
	if err := c.Delete(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	got = waitFor(t, ctx, fd, 2*time.Minute, "running", running)
	if got.Status.Error != "" {
		t.Errorf("status.error %q", got.Status.Error)
	}
	checkExposed(t, ctx, got, foreign, "Headless_ClusterIP", true)
}

// TestUnknownRestExposureIsRefused: an exposed type Flink does not know,
// set on a running FlinkDeployment, is an invalid spec naming the key;
// the JobManager, its job and the REST Service stay as they are.
func TestUnknownRestExposureIsRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd := deployRunning(t, ctx, haExample(t, "rest-unknown", v1beta1.UpgradeModeSavepoint))
	jm, svc := jobManager(t, ctx, fd), restService(t, ctx, fd)
	patchSpec(t, ctx, fd, exposedAs("ExternalName"))
	got := waitFor(t, ctx, fd, time.Minute, "status.error", func(fd *v1beta1.FlinkDeployment) bool { return fd.Status.Error != "" })
	if p := failure(got); p.Reason != problem.InvalidSpec || !strings.Contains(p.Message, "kubernetes.rest-service.exposed.type") {
		t.Errorf("status.error %+v", p)
	}
	framework.Hold(t, 3*time.Second, "the running cluster untouched", func() error {
		after, now := jobManager(t, ctx, fd), restService(t, ctx, fd)
		if after.UID != jm.UID || after.Generation != jm.Generation {
			return fmt.Errorf("JobManager Deployment %s generation %d, was %s generation %d", after.UID, after.Generation, jm.UID, jm.Generation)
		}
		if now == nil || now.UID != svc.UID || now.ResourceVersion != svc.ResourceVersion {
			return fmt.Errorf("REST Service %+v, was %s version %s", now, svc.UID, svc.ResourceVersion)
		}
		if job := simJob(fd); job == nil || job.State != "RUNNING" || job.ID != fd.Status.JobStatus.JobID {
			return fmt.Errorf("job %+v, was %s", job, fd.Status.JobStatus.JobID)
		}
		return nil
	})
}

// TestReplacedRestServiceHeldByAFinalizer: a REST Service that must be
// replaced and that a finalizer keeps after its deletion (a load
// balancer's cleanup) holds the upgrade, with the job's savepoint
// recorded: past the readiness timeout status.error says which Service and
// finalizer; once the finalizer goes, the upgrade lands from the savepoint.
func TestReplacedRestServiceHeldByAFinalizer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const finalizer = "example.com/load-balancer-cleanup"
	fd := deployRunning(t, ctx, haExample(t, "rest-held", v1beta1.UpgradeModeSavepoint))
	c := fleet.Members[0].Client
	svc := restService(t, ctx, fd)
	if err := c.Patch(ctx, svc, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":["`+finalizer+`"]}}`))); err != nil {
		t.Fatal(err)
	}
	patchSpec(t, ctx, fd, exposedAs("Headless_ClusterIP"))
	got := waitFor(t, ctx, fd, time.Minute, "DeletionStalled", func(fd *v1beta1.FlinkDeployment) bool { return failure(fd).Reason == problem.DeletionStalled })
	if msg := failure(got).Message; !strings.Contains(msg, "Service "+svc.Namespace+"/"+svc.Name) || !strings.Contains(msg, finalizer) {
		t.Errorf("status.error %q does not name the Service and its finalizer", msg)
	}
	if got.Status.JobStatus.UpgradeSavepointPath == "" {
		t.Error("the upgrade's savepoint is not recorded while the Service is held")
	}
	if err := c.Patch(ctx, restService(t, ctx, fd), client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`))); err != nil {
		t.Fatal(err)
	}
	got = awaitUpgradedTo(t, ctx, fd, "Headless_ClusterIP")
	job := simJob(fd)
	if job == nil {
		t.Fatal("no job after the upgrade")
	}
	checkRestored(t, v1beta1.UpgradeModeSavepoint, got, job.Spec.Restore)
	checkExposed(t, ctx, got, svc, "Headless_ClusterIP", true)
}
