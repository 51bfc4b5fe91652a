package flinkdeployment

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/fielddigest"
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
	inputs := validationInputs(s.fd)
	if r.valid.same(s.fd.UID, inputs) {
		s.clear(problem.InvalidSpec)
		return nil
	}
	errs := append(validation.Validate(s.fd, s.lastSpec), validation.ValidateEffective(s.fd)...)
	if len(errs) == 0 {
		r.valid.m.set(s.fd.UID, inputs)
		s.clear(problem.InvalidSpec)
		if r.warned.First(s.fd.UID, s.fd.Generation) {
			WarnUnknownSettings(s.fd.Spec.FlatConfiguration, func(msg string) { r.event(s, corev1.EventTypeWarning, "UnknownSetting", msg) })
		}
		return nil
	}
	r.valid.forget(s.fd.UID)
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

// validSpecs remember, per FlinkDeployment, a digest of what its last
// validation that passed read: the generation (the stored spec), the
// configuration with the defaults merged, the initial savepoint resolved
// from a snapshot reference, the annotations, the last reconciled spec and
// the upgrade savepoint path.
// Validation is a pure function of these (name and namespace never change
// for a UID), so a reconcile whose inputs digest alike skips it: every
// steady reconcile, where it cost a tenth of the hub's CPU (it encodes
// the spec and renders the configuration to check sizes).
type validSpecs struct{ m memo[fielddigest.Digest] }

// same reports whether uid's last validation that passed read inputs.
func (v *validSpecs) same(uid types.UID, inputs fielddigest.Digest) bool {
	last, ok := v.m.get(uid)
	return ok && last == inputs
}

// forget drops what uid's last validation that passed read.
func (v *validSpecs) forget(uid types.UID) {
	v.m.update(uid, func(fielddigest.Digest, bool) (fielddigest.Digest, bool) { return fielddigest.Digest{}, false })
}

// validationInputs digests what validation.Validate reads of fd, besides
// its name and namespace, with its last reconciled spec and where a
// suspended job starts again (status.jobStatus.upgradeSavepointPath).
func validationInputs(fd *v1beta1.FlinkDeployment) fielddigest.Digest {
	fields := []string{strconv.FormatInt(fd.Generation, 10), "", ""}
	if c := fd.Spec.FlinkConfiguration; c != nil {
		fields[1] = string(c.Raw)
	}
	if j := fd.Spec.Job; j != nil {
		fields[2] = j.InitialSavepointPath
	}
	for _, k := range slices.Sorted(maps.Keys(fd.Annotations)) {
		fields = append(fields, k, fd.Annotations[k])
	}
	return fielddigest.Of(append(fields, fd.Status.ReconciliationStatus.LastReconciledSpec, fd.Status.JobStatus.UpgradeSavepointPath)...)
}
