package flinkdeployment_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/deployer/native"
	"github.com/flink-hub/flink-hub/internal/deployer/standalone"
)

const adoptedNS = "adopted"

// TestAdoptedClusterIsCleanedUp: a Flink cluster the Apache operator
// deployed, with the owners Flink gives its objects (the FlinkDeployment
// owns the Deployments without controlling them; the JobManager
// Deployment controls the Services, the configuration and pod template
// ConfigMaps and the Ingress), is taken over; its upgrade and the
// FlinkDeployment's deletion leave none of its objects behind and serve
// none of them to the hub's cluster: the JobManager Deployment goes in
// the foreground, so the garbage collector (played by the simulator)
// removes what it controls before it goes, and the hub deploys only then.
// The hub writes to none of the objects the FlinkDeployment does not
// control.
func TestAdoptedClusterIsCleanedUp(t *testing.T) {
	for _, mode := range []v1beta1.KubernetesDeploymentMode{v1beta1.ModeNative, v1beta1.ModeStandalone} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			fd := example(t, "basic/basic-example", adoptedNS, "adopted-"+string(mode))
			fd.Spec.Mode = mode
			fd.Spec.Ingress = &v1beta1.IngressSpec{Template: "{{name}}.{{namespace}}.example.com"}
			old := leftByApacheOperator(t, ctx, fd)
			awaitEvent(t, ctx, fd, flinkdeployment.ReasonAdopted)
			waitFor(t, ctx, fd, 2*time.Minute, "observed", func(fd *v1beta1.FlinkDeployment) bool {
				return running(fd) && fd.Status.ClusterInfo["flink-version"] != ""
			})
			checkUnwritten(t, ctx, old)

			patchSpec(t, ctx, fd, `{"spec":{"job":{"parallelism":3}}}`)
			got := waitFor(t, ctx, fd, 2*time.Minute, "upgraded", func(fd *v1beta1.FlinkDeployment) bool {
				return running(fd) && fd.Status.ObservedGeneration == fd.Generation && strings.Contains(fd.Status.ReconciliationStatus.LastReconciledSpec, `"parallelism":3`)
			})
			if got.Status.Error != "" {
				t.Errorf("status.error after the upgrade: %s", got.Status.Error)
			}
			checkReplaced(t, ctx, got, old)

			deleteAndAwait(t, ctx, fd)
			for _, obj := range old {
				if err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(obj), obj.DeepCopyObject().(client.Object)); !apierrors.IsNotFound(err) {
					t.Errorf("%T %s left after the deletion (%v)", obj, obj.GetName(), err)
				}
			}
		})
	}
}

// leftByApacheOperator creates fd and its running cluster as the Apache
// operator leaves them, and hands fd to the hub; it returns the cluster's
// objects as created. The objects are the hub's rendering without the
// hub's label, owned as Flink owns them (Fabric8FlinkKubeClient,
// IngressUtils, the operator's kubernetes.jobmanager.owner.reference),
// plus the TaskManager pod template ConfigMap of Flink's native client.
// fd is a canary (left alone) until its status, written by the Apache
// operator, is in place; then the record of that write is cleared, as the
// hub's ManagedElsewhere event says to when the other operator is gone
// (e2e/hub TestAdoptionFromTheApacheOperator hands a member over with
// `adopt`).
func leftByApacheOperator(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment) []client.Object {
	t.Helper()
	fd.Labels = map[string]string{v1beta1.LabelCanary: "true"}
	fd.Finalizers = []string{flinkdeployment.Finalizer}
	create(t, ctx, fd)
	old := apacheObjects(t, ctx, fd)
	job := awaitSimJob(t, ctx, fd)
	spec, err := plan.EncodeSpec(&fd.Spec, true)
	if err != nil {
		t.Fatal(err)
	}
	before := fd.DeepCopy()
	fd.Status = framework.DeployedStatus(fd, spec, job, time.Now())
	c := fleet.Members[0].Client
	if err := c.Status().Patch(ctx, fd, client.MergeFrom(before), client.FieldOwner("flink-kubernetes-operator")); err != nil {
		t.Fatal(err)
	}
	handOver := fmt.Sprintf(`{"metadata":{"labels":{%q:null},"managedFields":[{}]}}`, v1beta1.LabelCanary)
	if err := c.Patch(ctx, fd, client.RawPatch(types.MergePatchType, []byte(handOver))); err != nil {
		t.Fatal(err)
	}
	return old
}

// apacheObjects creates fd's cluster as Flink's clients create it: the
// Deployments owned, not controlled, by fd; everything else controlled by
// the JobManager Deployment, the Ingress without labels.
func apacheObjects(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment) []client.Object {
	t.Helper()
	d := deployer.Deployer(native.New())
	if fd.Spec.Mode == v1beta1.ModeStandalone {
		d = standalone.New()
	}
	objs, err := d.Resources(fd, deployer.Inputs{})
	if err != nil {
		t.Fatal(err)
	}
	if fd.Spec.Mode != v1beta1.ModeStandalone {
		objs = append(objs, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: native.LegacyPodTemplateConfigMapName(fd),
			Labels: map[string]string{deployer.LabelApp: fd.Name, deployer.LabelType: deployer.TypeNative}}, Data: map[string]string{"taskmanager-pod-template.yaml": "{}"}})
	}
	byFD := metav1.OwnerReference{APIVersion: v1beta1.GroupVersion.String(), Kind: "FlinkDeployment", Name: fd.Name, UID: fd.UID,
		Controller: ptr.To(false), BlockOwnerDeletion: ptr.To(true)}
	var deployments, others []client.Object
	for _, obj := range objs {
		labels := obj.GetLabels()
		delete(labels, deployer.LabelManagedBy)
		obj.SetLabels(labels)
		obj.SetOwnerReferences([]metav1.OwnerReference{byFD})
		switch o := obj.(type) {
		case *appsv1.Deployment:
			delete(o.Spec.Template.Labels, deployer.LabelManagedBy)
			if fd.Spec.Mode != v1beta1.ModeStandalone {
				o.Spec.Selector.MatchLabels[deployer.LabelType] = deployer.TypeNative
			}
			if o.Name == deployer.JobManagerDeploymentName(fd) {
				deployments = append([]client.Object{obj}, deployments...) // created first: the others name it
			} else {
				deployments = append(deployments, obj)
			}
		case *networkingv1.Ingress:
			o.Labels = nil
			others = append(others, obj)
		default:
			others = append(others, obj)
		}
	}
	c := fleet.Members[0].Client
	for _, obj := range deployments {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
		}
	}
	jm := deployments[0]
	byJM := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: jm.GetName(), UID: jm.GetUID(),
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
	for _, obj := range others {
		obj.SetOwnerReferences([]metav1.OwnerReference{byJM})
		if err := c.Create(ctx, obj); err != nil {
			t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
		}
	}
	return append(deployments, others...)
}

// awaitSimJob waits until fd's simulated job runs and returns its id.
func awaitSimJob(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment) string {
	t.Helper()
	var id string
	if err := framework.Eventually(ctx, time.Minute, func(context.Context) (bool, error) {
		job := simJob(fd)
		if job == nil || job.State != "RUNNING" {
			return false, nil
		}
		id = job.ID
		return true, nil
	}); err != nil {
		t.Fatalf("the Apache operator's job does not run under the simulator: %v", err)
	}
	return id
}

// checkUnwritten checks that the takeover wrote, of old, only the
// Deployments fd owns (the hub's label): what the JobManager Deployment
// controls keeps its resourceVersion and owners.
func checkUnwritten(t *testing.T, ctx context.Context, old []client.Object) {
	t.Helper()
	for _, obj := range old {
		now := obj.DeepCopyObject().(client.Object)
		if err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(obj), now); err != nil {
			t.Errorf("%T %s: %v", obj, obj.GetName(), err)
			continue
		}
		if _, isDeployment := obj.(*appsv1.Deployment); isDeployment {
			if now.GetLabels()[deployer.LabelManagedBy] != deployer.ManagedByHub || now.GetUID() != obj.GetUID() {
				t.Errorf("Deployment %s not taken over in place: UID %s (was %s), labels %v", obj.GetName(), now.GetUID(), obj.GetUID(), now.GetLabels())
			}
			continue
		}
		if now.GetResourceVersion() != obj.GetResourceVersion() {
			t.Errorf("%T %s written by the takeover: resourceVersion %s (was %s), labels %v", obj, obj.GetName(), now.GetResourceVersion(), obj.GetResourceVersion(), now.GetLabels())
		}
	}
}

// checkReplaced checks, after fd's upgrade, that no object of old is
// left, and that each object of fd's cluster is fd's.
func checkReplaced(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment, old []client.Object) {
	t.Helper()
	for _, obj := range old {
		now := obj.DeepCopyObject().(client.Object)
		err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(obj), now)
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			t.Errorf("%T %s: %v", obj, obj.GetName(), err)
		case now.GetUID() == obj.GetUID():
			t.Errorf("%T %s of the adopted cluster left after the upgrade: owners %+v", obj, obj.GetName(), now.GetOwnerReferences())
		case !metav1.IsControlledBy(now, fd):
			t.Errorf("%T %s after the upgrade is not the FlinkDeployment's: owners %+v", obj, obj.GetName(), now.GetOwnerReferences())
		}
	}
}
