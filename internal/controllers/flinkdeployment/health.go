package flinkdeployment

import (
	"context"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/log"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/clusterhealth"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
)

// ReasonRestartUnhealthy is upstream's event of a job restarted by the
// cluster health check.
const ReasonRestartUnhealthy = "RestartUnhealthyJob"

// Flink's checkpointing keys the health check reads, and their defaults.
const (
	keyCheckpointTimeout       = "execution.checkpointing.timeout"
	keyTolerableCheckpoints    = "execution.checkpointing.tolerable-failed-checkpoints"
	defaultCheckpointTimeout   = 10 * time.Minute
	defaultHealthRestarts      = 64
	defaultHealthRestartWindow = 2 * time.Minute
)

// Flink's job metrics the health check reads (numRestarts, or the older
// fullRestarts).
const (
	metricNumRestarts          = "numRestarts"
	metricFullRestarts         = "fullRestarts"
	metricCompletedCheckpoints = "numberOfCompletedCheckpoints"
)

// observeHealth feeds the job's restart and checkpoint counts to the
// cluster health check, when the running spec (runningSpec) enables it,
// keeping the judgment in status.clusterInfo. A JobManager that cannot say is not
// judged (upstream treats it as a passing problem too).
func (r *Reconciler) observeHealth(ctx context.Context, s *state, jm flinkrest.Client, jobID string) {
	spec := runningSpec(s)
	if s.lastSpec == nil || !plan.SettingOn(spec, flinkconf.KeyHealthCheck) || plan.Ended(&s.fd.Status) {
		return
	}
	metrics, err := jm.JobMetrics(ctx, jobID, metricFullRestarts, metricNumRestarts, metricCompletedCheckpoints)
	if err != nil {
		log.FromContext(ctx).Info("cannot read the job's metrics for its health check", "error", err.Error())
		return
	}
	restarts, ok := metrics[metricNumRestarts]
	if !ok {
		restarts = metrics[metricFullRestarts]
	}
	nRestarts, err1 := strconv.Atoi(restarts)
	nCompleted, err2 := strconv.Atoi(metrics[metricCompletedCheckpoints])
	if err1 != nil || err2 != nil {
		log.FromContext(ctx).Info("the job's metrics hold no restart or checkpoint count; no health check", "metrics", len(metrics))
		return
	}
	if s.fd.Status.ClusterInfo == nil {
		s.fd.Status.ClusterInfo = map[string]string{}
	}
	now := r.now()
	observed := clusterhealth.Info{TimeStamp: now.UnixMilli(), NumRestarts: nRestarts, NumCompletedCheckpoints: nCompleted}
	clusterhealth.Evaluate(s.fd.Status.ClusterInfo, observed, healthSettings(spec), now)
}

// healthSettings reads the health check's settings and the job's
// checkpointing from spec, with upstream's and Flink's defaults.
func healthSettings(spec *v1beta1.FlinkDeploymentSpec) clusterhealth.Settings {
	conf, _ := spec.FlatConfiguration()
	s := clusterhealth.Settings{
		RestartsWindow:     plan.DurationSetting(spec, flinkconf.KeyHealthRestartsWindow),
		RestartsThreshold:  defaultHealthRestarts,
		CheckpointProgress: !plan.SettingOff(spec, flinkconf.KeyHealthCheckpointProgress),
		CheckpointWindow:   plan.DurationSetting(spec, flinkconf.KeyHealthCheckpointWindow),
		CheckpointTimeout:  defaultCheckpointTimeout,
	}
	if s.RestartsWindow <= 0 {
		s.RestartsWindow = defaultHealthRestartWindow
	}
	if n, err := strconv.Atoi(strings.TrimSpace(plan.OperatorSetting(spec, flinkconf.KeyHealthRestartsThreshold))); err == nil && n >= 0 {
		s.RestartsThreshold = n
	}
	if d, err := flinkconf.ParseDuration(conf[flinkconf.KeyCheckpointInterval]); err == nil {
		s.CheckpointInterval = d
	}
	if d, err := flinkconf.ParseDuration(conf[keyCheckpointTimeout]); err == nil && d > 0 {
		s.CheckpointTimeout = d
	}
	if n, err := strconv.Atoi(strings.TrimSpace(conf[keyTolerableCheckpoints])); err == nil && n >= 0 {
		s.TolerableFailures = n
	}
	return s
}
