package flinkdeployment

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/problem"
	"github.com/flink-hub/flink-hub/internal/validation"
)

// validate applies the shared rules. An invalid spec is the InvalidSpec
// problem, and stops the reconcile before it touches anything running.
func (r *Reconciler) validate(ctx context.Context, s *state) error {
	if err := r.resolveInitialState(ctx, s); err != nil {
		return err
	}
	errs := validation.Validate(s.fd, s.lastSpec)
	if len(errs) == 0 {
		s.clear(problem.InvalidSpec)
		if r.warned.First(s.fd.UID, s.fd.Generation) {
			WarnUnknownSettings(s.fd.Spec.FlatConfiguration, func(msg string) { r.event(s, corev1.EventTypeWarning, "UnknownSetting", msg) })
		}
		return nil
	}
	msg := "invalid spec: " + errs.ToAggregate().Error()
	s.report(problem.New(problem.InvalidSpec, msg))
	return requeue.Stalling(errors.New(msg))
}

// WarnUnknownSettings says, once per new spec, which kubernetes.operator.*
// keys of the configuration the hub does not read (up to maxListed of
// them: the keys are tenant text): a typo must not silently do nothing.
func WarnUnknownSettings(conf func() (map[string]string, error), warn func(msg string)) {
	m, err := conf()
	if err != nil {
		return
	}
	unknown := flinkconf.UnknownOperatorSettings(m)
	if len(unknown) == 0 {
		return
	}
	warn(fmt.Sprintf("flink-hub does not read %s: it does nothing here (a typo, or an upstream feature flink-hub does not have)", boundedList(unknown)))
}

// Generations remembers, per object, the last generation something was
// said of, so that it is said once per spec; safe for concurrent use. The
// zero value is ready.
type Generations struct{ seen memo[int64] }

// First reports whether generation of uid is new since the last call.
func (g *Generations) First(uid types.UID, generation int64) bool {
	first := false
	g.seen.update(uid, func(seen int64, ok bool) (int64, bool) {
		first = !ok || seen != generation
		return generation, true
	})
	return first
}
