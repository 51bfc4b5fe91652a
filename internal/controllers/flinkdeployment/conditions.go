package flinkdeployment

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/boundedtext"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// Condition types of a FlinkDeployment.
const (
	// ConditionReady says whether the deployed spec runs stably; its reason
	// is the problem's when there is one.
	ConditionReady = "Ready"
	// ConditionRunning is the Apache operator's condition: for an
	// application, whether its job runs; for a session cluster, whether
	// its JobManager is ready.
	ConditionRunning = "Running"
)

// setConditions sets the Ready and Running conditions from the status and
// the current problem.
func setConditions(fd *v1beta1.FlinkDeployment, p problem.Problem) {
	meta.SetStatusCondition(&fd.Status.Conditions, readyCondition(&fd.Status, p, fd.Generation))
	meta.SetStatusCondition(&fd.Status.Conditions, runningCondition(fd))
}

// readyCondition summarizes the status in the Ready condition: the
// problem when there is one, else the lifecycle.
func readyCondition(st *v1beta1.FlinkDeploymentStatus, p problem.Problem, generation int64) metav1.Condition {
	c := metav1.Condition{Type: ConditionReady, ObservedGeneration: generation}
	switch {
	case !p.IsZero():
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, string(p.Reason), boundedtext.Cut(p.Message, problem.MaxConditionMessage)
	case st.LifecycleState == v1beta1.LifecycleStable:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, "Stable", "the deployed spec runs stably"
	case st.LifecycleState == v1beta1.LifecycleSuspended:
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, "Suspended", "the job is suspended"
	default:
		c.Status, c.Reason = metav1.ConditionFalse, "Progressing"
		c.Message = fmt.Sprintf("lifecycle %s, JobManager %s", st.LifecycleState, st.JobManagerDeploymentStatus)
	}
	return c
}

// runningCondition is the Apache operator's Running condition: for an
// application, True while the job is RUNNING, with the job state as the
// reason; for a session cluster, from the JobManager's deployment status
// with the Apache operator's reasons and messages.
func runningCondition(fd *v1beta1.FlinkDeployment) metav1.Condition {
	st := &fd.Status
	c := metav1.Condition{Type: ConditionRunning, ObservedGeneration: fd.Generation, Status: metav1.ConditionFalse}
	if fd.Spec.Job != nil {
		state := st.JobStatus.State
		if state == "" {
			state = "UNKNOWN"
		}
		if state == v1beta1.JobRunning {
			c.Status = metav1.ConditionTrue
		}
		c.Reason, c.Message = string(state), "Job status "+string(state)
		return c
	}
	switch st.JobManagerDeploymentStatus {
	case v1beta1.JobManagerReady:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, "JobManagerReady", "JobManager is running and ready to receive REST API calls"
	case v1beta1.JobManagerDeployedNotReady:
		c.Reason, c.Message = "DeployedNotReady", "JobManager is running but not ready yet to receive REST API calls"
	case v1beta1.JobManagerDeploying:
		c.Reason, c.Message = "JobManagerIsDeploying", "JobManager process is starting up"
	case v1beta1.JobManagerError:
		c.Reason, c.Message = "Error", "JobManager deployment failed"
	default:
		c.Reason, c.Message = "JobManagerDeploymentMissing", "JobManager deployment not found"
	}
	return c
}
