package flinkdeployment

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// applyService applies svc, one of target's Services, and replaces the
// member's Service when it cannot become svc in place
// (deployer.ServiceInPlace: headless or not, which
// kubernetes.rest-service.exposed.type decides, is its cluster IP). The
// Services outlive the Deployments an upgrade deletes, so the new spec
// meets the old Service here: the apiserver refuses a new cluster IP as
// invalid, and an apply without one keeps a headless Service headless.
// The steady apply costs no extra request: the Service is read only when
// the apply was refused as invalid, and judged from the apply's answer
// otherwise.
func (r *Reconciler) applyService(ctx context.Context, s *state, target *v1beta1.FlinkDeployment, svc *corev1.Service) error {
	want := svc.DeepCopy()
	c, reader := s.cluster.GetClient(), s.cluster.GetAPIReader()
	err := r.applyOwned(ctx, s, target, svc, claimCache(s, svc))
	if err == nil && deployer.ServiceInPlace(svc, want) {
		return nil
	}
	live := svc
	if err != nil {
		if !apierrors.IsInvalid(err) || deployer.UIDRefused(err) {
			return err
		}
		live = &corev1.Service{}
		if gerr := reader.Get(ctx, client.ObjectKeyFromObject(want), live); gerr != nil && !apierrors.IsNotFound(gerr) {
			return gerr
		} else if gerr != nil || deployer.ServiceInPlace(live, want) {
			// Gone meanwhile (the next apply creates it), or refused
			// for another reason: the apiserver's answer stands.
			return err
		}
	}
	if err := deployer.ReplaceService(ctx, reader, c, target, live, want); err != nil {
		return err
	}
	// The cache still holds the deleted Service: judged live.
	return r.applyOwned(ctx, s, target, want, nil)
}

// explainApply turns what the applies found into the status: an object
// the FlinkDeployment does not control (deployer.Claimer), or a Service it
// does not own that applyService would have to replace, is the
// ReconcileFailed problem naming it and saying what to do, retried with
// backoff; a replaced Service still being
// deleted is waited for (reported when it outlives the readiness
// timeout). Other errors are returned as they are.
func (r *Reconciler) explainApply(s *state, err error) error {
	var notOwned *deployer.ServiceNotOwnedError
	var foreign *deployer.ForeignObjectError
	var held *deployer.ServiceHeldError
	switch {
	case errors.As(err, &notOwned):
		return refuseApply(s, notOwned)
	case errors.As(err, &foreign):
		return refuseApply(s, foreign)
	case errors.As(err, &held):
		return r.awaitDeleted(s, "Service", held.Service, "a change of its cluster IP", r.Options.ProgressCheckInterval)
	}
	return err
}

// refuseApply reports err, an object the hub does not write to, as the
// ReconcileFailed problem, retried with backoff.
func refuseApply(s *state, err error) error {
	s.report(problem.New(problem.ReconcileFailed, "reconcile failed: "+err.Error()+"; the hub keeps retrying"))
	return requeue.Reported(err)
}
