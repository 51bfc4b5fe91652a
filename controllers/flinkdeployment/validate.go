package flinkdeployment

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/flink-hub/flink-hub/controllers/validation"
)

// validate applies the shared rules. An invalid spec is reported in
// status.error and a Warning event, and stops the reconcile before it
// touches anything running.
func (r *Reconciler) validate(ctx context.Context, s *state) error {
	errs := validation.Validate(s.fd, s.lastSpec)
	if len(errs) == 0 {
		if s.fd.Status.Error != "" && isValidationError(s.fd.Status.Error) {
			s.fd.Status.Error = ""
		}
		return nil
	}
	msg := validationPrefix + errs.ToAggregate().Error()
	if s.fd.Status.Error != msg {
		s.cluster.GetEventRecorder("flink-hub").Eventf(s.fd, nil, corev1.EventTypeWarning, "ValidationError", "Validate", "%s", msg)
	}
	s.fd.Status.Error = msg
	return stalling(fmt.Errorf("%s", msg))
}

const validationPrefix = "invalid spec: "

func isValidationError(msg string) bool {
	return len(msg) >= len(validationPrefix) && msg[:len(validationPrefix)] == validationPrefix
}
