package flinksessionjob

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// stallReasons are the reports of a wait on Flink that lasts longer than
// it should. Each wait reports itself again while it lasts
// (awaitCancel, reportSavepointStalled), so a reconcile starts without
// them: one whose wait ended clears the report.
var stallReasons = []problem.Reason{problem.UpgradeStalled, problem.SavepointStalled}

// cancelForUpgrade cancels the running job for what (an upgrade by
// cancellation) and records it CANCELLING from now, as upstream's
// cancelJobOrError does, so the wait for Flink to end it is timed; a job
// Flink does not know is left to the next observation.
func (r *Reconciler) cancelForUpgrade(ctx context.Context, s *state, jm flinkrest.Client, what string) error {
	js := &s.job.Status.JobStatus
	if err := jm.CancelJob(ctx, js.JobID); err != nil && !flinkrest.IsNotFound(err) {
		return fmt.Errorf("cancel job %s for %s: %w", js.JobID, what, err)
	}
	js.State, js.UpdateTime = v1beta1.JobCancelling, strconv.FormatInt(r.now().UnixMilli(), 10)
	return nil
}

// awaitCancel is the wait of what (an upgrade) for the job it cancelled
// to leave CANCELLING. Past kubernetes.operator.flink.client.cancel.timeout
// (1 min by default, as upstream) from status.jobStatus.updateTime it is
// reported as UpgradeStalled, as a FlinkDeployment's is, and waited for
// still: the job, its state and the savepoint paths stay as they are.
func (r *Reconciler) awaitCancel(s *state, what string) error {
	js := &s.job.Status.JobStatus
	timeout, _ := flinkconf.ParseDuration(s.setting(flinkconf.KeyCancelTimeout))
	if msg := plan.CancelStalled(js.UpdateTime, timeout, r.now(), what); msg != "" {
		s.problem = problem.New(problem.UpgradeStalled, msg)
	}
	return requeue.Waiting(errors.New("job cancelling for "+what), r.Options.ProgressCheckInterval)
}

// reportSavepointStalled reports the pending savepoint once it has been in
// progress longer than Flink's execution.checkpointing.timeout (which
// should have ended it) and one more look, as a FlinkDeployment's is:
// UpgradeStalled while an upgrade waits on it, else SavepointStalled. The
// hub keeps following it.
func (r *Reconciler) reportSavepointStalled(s *state) {
	info := s.job.Status.JobStatus.SavepointInfo
	if info.TriggerTimestamp == nil {
		return
	}
	timeout, _ := flinkconf.ParseDuration(s.setting(flinkconf.KeyCheckpointTimeout))
	start := time.UnixMilli(*info.TriggerTimestamp)
	if _, limit, stalled := flinkconf.SnapshotStalled(timeout, start, r.now(), r.Options.ProgressCheckInterval); stalled {
		reason, what := savepointWait(s)
		s.problem = problem.New(reason, flinkdeployment.SavepointStalledText(what, start, limit))
	}
}

// savepointWait names, for a report, the pending savepoint and what waits
// on it, as a FlinkDeployment's are named.
func savepointWait(s *state) (problem.Reason, string) {
	upgrading := s.job.Status.ReconciliationStatus.State == v1beta1.ReconciliationUpgrading
	return flinkdeployment.SavepointWait(s.job.Status.JobStatus.SavepointInfo.TriggerType, !s.job.DeletionTimestamp.IsZero(), upgrading)
}
