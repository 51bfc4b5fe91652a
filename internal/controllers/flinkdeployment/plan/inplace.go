package plan

import (
	"fmt"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// inPlaceSince is the first Flink release with the resource requirements
// API (FLIP-291).
const inPlaceSince v1beta1.FlinkVersion = "v1_18"

// scale is the step of a DiffScale change: a reactive standalone cluster
// resizes its TaskManagers; a native job's new parallelism overrides are
// set in place when they can be, as upstream's NativeFlinkService.scale
// decides it, and are an upgrade otherwise (Why says why not in place).
func scale(in Input) Plan {
	if reactiveStandalone(in.Spec) {
		return Plan{Step: Scale}
	}
	if why := NotInPlace(in); why != "" {
		return begin(in, fmt.Sprintf("Spec changed (%s), not in place: %s", DiffScale, why))
	}
	return Plan{Step: ScaleInPlace}
}

// NotInPlace says why a native job's parallelism overrides change cannot
// be made in place, "" when it can: in-place scaling turned off
// (kubernetes.operator.job.upgrade.inplace-scaling.enabled, read from the
// new spec), the running cluster older than Flink 1.18 or without the
// adaptive scheduler (jobmanager.scheduler: adaptive), its JobManager not
// ready or its job ended or reconciling, the cluster rolled back (it runs
// the last stable spec, not the last reconciled one the change is made
// to), an override removed (the vertex goes back to the job's
// parallelism: an upgrade, as upstream), no overrides at all, or this
// reconcile's attempt refused (ScaleRefused).
func NotInPlace(in Input) string {
	spec, last, st := in.Spec, in.Last, in.Status
	switch js := st.JobStatus.State; {
	case in.ScaleRefused != "":
		return in.ScaleRefused
	case spec.Job == nil:
		return "a session cluster has no job to rescale"
	case st.ReconciliationStatus.State == v1beta1.ReconciliationRolledBack:
		// Rescaled in place and recorded as deployed, the rest of the last
		// reconciled spec (what failed) would be taken as running, and
		// marked stable, without ever being deployed.
		return "the cluster was rolled back: it runs the last stable spec, not the one changed"
	case SettingOff(spec, flinkconf.KeyInPlaceScaling):
		return flinkconf.KeyInPlaceScaling + " is false"
	case !last.FlinkVersion.IsEqualOrNewer(inPlaceSince):
		return "in-place scaling needs Flink 1.18 or later, the cluster runs " + last.FlinkVersion.Number()
	case !adaptive(last):
		return "in-place scaling needs the adaptive scheduler (" + flinkconf.KeyScheduler + ": " + flinkconf.SchedulerAdaptive + ")"
	case st.JobManagerDeploymentStatus != v1beta1.JobManagerReady:
		return "the JobManager is not ready"
	case js == "" || js == v1beta1.JobReconciling || Ended(st):
		return fmt.Sprintf("the job is %q", js)
	}
	before, err := Overrides(last)
	if err != nil {
		return err.Error()
	}
	after, err := Overrides(spec)
	if err != nil {
		return err.Error()
	}
	if len(before) == 0 && len(after) == 0 {
		return "no parallelism overrides before or after"
	}
	for id := range before {
		if _, kept := after[id]; !kept {
			return "the parallelism override of job vertex " + id + " was removed"
		}
	}
	return ""
}

// Overrides is spec's parallelism overrides, by job vertex id
// (flinkconf.ParallelismOverrides).
func Overrides(spec *v1beta1.FlinkDeploymentSpec) (map[string]int32, error) {
	conf, err := spec.FlatConfiguration()
	if err != nil {
		return nil, err
	}
	o, err := flinkconf.ParallelismOverrides(conf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flinkconf.KeyParallelismOverrides, err)
	}
	return o, nil
}

// adaptive reports a spec whose cluster runs Flink's adaptive scheduler.
func adaptive(spec *v1beta1.FlinkDeploymentSpec) bool {
	conf, err := spec.FlatConfiguration()
	return err == nil && flinkconf.AdaptiveScheduler(conf)
}
