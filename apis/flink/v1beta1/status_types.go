package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FlinkDeploymentStatus is the observed state of a FlinkDeployment, with the
// upstream operator's field names.
type FlinkDeploymentStatus struct {
	// JobStatus is the last observed job state.
	// +optional
	JobStatus JobStatus `json:"jobStatus,omitempty"`

	// Error is the last reconcile error, for the user.
	// +optional
	Error string `json:"error,omitempty"`

	// ObservedGeneration is the generation last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// LifecycleState summarizes where the resource is in its lifecycle.
	// +optional
	LifecycleState ResourceLifecycleState `json:"lifecycleState,omitempty"`

	// ClusterInfo holds facts about the running cluster, such as its Flink
	// version and revision.
	// +optional
	ClusterInfo map[string]string `json:"clusterInfo,omitempty"`

	// JobManagerDeploymentStatus is the state of the JobManager Deployment.
	// +optional
	JobManagerDeploymentStatus JobManagerDeploymentStatus `json:"jobManagerDeploymentStatus,omitempty"`

	// ReconciliationStatus records the last reconciled and last stable spec.
	// +optional
	ReconciliationStatus ReconciliationStatus `json:"reconciliationStatus,omitempty"`

	// TaskManager is the TaskManager status the scale subresource reads.
	// +optional
	TaskManager *TaskManagerInfo `json:"taskManager,omitempty"`

	// Conditions are the resource's conditions.
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ResourceLifecycleState is the lifecycle state of a FlinkDeployment.
// +kubebuilder:validation:Enum=CREATED;SUSPENDED;UPGRADING;DEPLOYED;STABLE;ROLLING_BACK;ROLLED_BACK;FAILED;DELETING;DELETED
type ResourceLifecycleState string

// Lifecycle states, as upstream.
const (
	LifecycleCreated     ResourceLifecycleState = "CREATED"
	LifecycleSuspended   ResourceLifecycleState = "SUSPENDED"
	LifecycleUpgrading   ResourceLifecycleState = "UPGRADING"
	LifecycleDeployed    ResourceLifecycleState = "DEPLOYED"
	LifecycleStable      ResourceLifecycleState = "STABLE"
	LifecycleRollingBack ResourceLifecycleState = "ROLLING_BACK"
	LifecycleRolledBack  ResourceLifecycleState = "ROLLED_BACK"
	LifecycleFailed      ResourceLifecycleState = "FAILED"
	LifecycleDeleting    ResourceLifecycleState = "DELETING"
	LifecycleDeleted     ResourceLifecycleState = "DELETED"
)

// JobManagerDeploymentStatus is the state of the JobManager Deployment.
// +kubebuilder:validation:Enum=READY;DEPLOYED_NOT_READY;DEPLOYING;MISSING;ERROR
type JobManagerDeploymentStatus string

// JobManager deployment states, as upstream.
const (
	JobManagerReady            JobManagerDeploymentStatus = "READY"
	JobManagerDeployedNotReady JobManagerDeploymentStatus = "DEPLOYED_NOT_READY"
	JobManagerDeploying        JobManagerDeploymentStatus = "DEPLOYING"
	JobManagerMissing          JobManagerDeploymentStatus = "MISSING"
	JobManagerError            JobManagerDeploymentStatus = "ERROR"
)

// JobStatus is the observed state of the Flink job.
type JobStatus struct {
	// JobName is the job's name in Flink.
	// +optional
	JobName string `json:"jobName,omitempty"`
	// JobID is the Flink job id.
	// +optional
	JobID string `json:"jobId,omitempty"`
	// State is the Flink job state.
	// +optional
	State JobStatusState `json:"state,omitempty"`
	// StartTime is the job start time, epoch milliseconds as a string.
	// +optional
	StartTime string `json:"startTime,omitempty"`
	// UpdateTime is when the status was last updated, epoch milliseconds as
	// a string.
	// +optional
	UpdateTime string `json:"updateTime,omitempty"`
	// UpgradeSavepointPath is the savepoint taken for the last upgrade.
	// +optional
	UpgradeSavepointPath string `json:"upgradeSavepointPath,omitempty"`
	// SavepointInfo records savepoints (deprecated upstream, still kept).
	// +optional
	SavepointInfo *SavepointInfo `json:"savepointInfo,omitempty"`
	// CheckpointInfo records manual checkpoints (deprecated upstream, still
	// kept).
	// +optional
	CheckpointInfo *CheckpointInfo `json:"checkpointInfo,omitempty"`
}

// JobStatusState is a Flink job state.
// +kubebuilder:validation:Enum=INITIALIZING;CREATED;RUNNING;FAILING;FAILED;CANCELLING;CANCELED;FINISHED;RESTARTING;SUSPENDED;RECONCILING
type JobStatusState string

// Flink job states.
const (
	JobInitializing JobStatusState = "INITIALIZING"
	JobCreated      JobStatusState = "CREATED"
	JobRunning      JobStatusState = "RUNNING"
	JobFailing      JobStatusState = "FAILING"
	JobFailed       JobStatusState = "FAILED"
	JobCancelling   JobStatusState = "CANCELLING"
	JobCanceled     JobStatusState = "CANCELED"
	JobFinished     JobStatusState = "FINISHED"
	JobRestarting   JobStatusState = "RESTARTING"
	JobSuspended    JobStatusState = "SUSPENDED"
	JobReconciling  JobStatusState = "RECONCILING"
)

// SnapshotTriggerType says what triggered a savepoint or checkpoint.
// +kubebuilder:validation:Enum=MANUAL;PERIODIC;UPGRADE;UNKNOWN
type SnapshotTriggerType string

// Snapshot trigger types.
const (
	TriggerManual   SnapshotTriggerType = "MANUAL"
	TriggerPeriodic SnapshotTriggerType = "PERIODIC"
	TriggerUpgrade  SnapshotTriggerType = "UPGRADE"
	TriggerUnknown  SnapshotTriggerType = "UNKNOWN"
)

// SavepointFormatType is the binary format of a savepoint.
// +kubebuilder:validation:Enum=CANONICAL;NATIVE;UNKNOWN
type SavepointFormatType string

// Savepoint formats.
const (
	SavepointFormatCanonical SavepointFormatType = "CANONICAL"
	SavepointFormatNative    SavepointFormatType = "NATIVE"
	SavepointFormatUnknown   SavepointFormatType = "UNKNOWN"
)

// CheckpointType is the kind of a checkpoint.
// +kubebuilder:validation:Enum=FULL;INCREMENTAL;UNKNOWN
type CheckpointType string

// Checkpoint kinds.
const (
	CheckpointFull        CheckpointType = "FULL"
	CheckpointIncremental CheckpointType = "INCREMENTAL"
	CheckpointUnknown     CheckpointType = "UNKNOWN"
)

// Savepoint is one completed savepoint.
type Savepoint struct {
	// TimeStamp is when it completed, epoch milliseconds.
	// +optional
	TimeStamp int64 `json:"timeStamp,omitempty"`
	// Location is the savepoint path.
	// +optional
	Location string `json:"location,omitempty"`
	// TriggerType is what triggered it.
	// +optional
	TriggerType SnapshotTriggerType `json:"triggerType,omitempty"`
	// FormatType is its binary format.
	// +optional
	FormatType SavepointFormatType `json:"formatType,omitempty"`
	// TriggerNonce is the savepointTriggerNonce of a manual savepoint.
	// +optional
	TriggerNonce *int64 `json:"triggerNonce,omitempty"`
}

// SavepointInfo records the pending and completed savepoints of a job.
type SavepointInfo struct {
	// LastSavepoint is the latest completed savepoint.
	// +optional
	LastSavepoint *Savepoint `json:"lastSavepoint,omitempty"`
	// TriggerID is the Flink trigger id of the pending savepoint.
	// +optional
	TriggerID string `json:"triggerId,omitempty"`
	// TriggerTimestamp is when the pending savepoint was triggered.
	// +optional
	TriggerTimestamp *int64 `json:"triggerTimestamp,omitempty"`
	// TriggerType is what triggered the pending savepoint.
	// +optional
	TriggerType SnapshotTriggerType `json:"triggerType,omitempty"`
	// FormatType is the pending savepoint's format.
	// +optional
	FormatType SavepointFormatType `json:"formatType,omitempty"`
	// SavepointHistory lists completed savepoints, oldest first.
	// +optional
	SavepointHistory []Savepoint `json:"savepointHistory,omitempty"`
	// LastPeriodicSavepointTimestamp is when the last periodic savepoint
	// was triggered.
	// +optional
	LastPeriodicSavepointTimestamp int64 `json:"lastPeriodicSavepointTimestamp,omitempty"`
}

// Checkpoint is one completed checkpoint.
type Checkpoint struct {
	// TimeStamp is when it completed, epoch milliseconds.
	// +optional
	TimeStamp int64 `json:"timeStamp,omitempty"`
	// TriggerType is what triggered it.
	// +optional
	TriggerType SnapshotTriggerType `json:"triggerType,omitempty"`
	// FormatType is its kind.
	// +optional
	FormatType CheckpointType `json:"formatType,omitempty"`
	// TriggerNonce is the checkpointTriggerNonce of a manual checkpoint.
	// +optional
	TriggerNonce *int64 `json:"triggerNonce,omitempty"`
}

// CheckpointInfo records the pending and last manual checkpoint of a job.
type CheckpointInfo struct {
	// LastCheckpoint is the latest completed checkpoint.
	// +optional
	LastCheckpoint *Checkpoint `json:"lastCheckpoint,omitempty"`
	// TriggerID is the Flink trigger id of the pending checkpoint.
	// +optional
	TriggerID string `json:"triggerId,omitempty"`
	// TriggerTimestamp is when the pending checkpoint was triggered.
	// +optional
	TriggerTimestamp *int64 `json:"triggerTimestamp,omitempty"`
	// TriggerType is what triggered the pending checkpoint.
	// +optional
	TriggerType SnapshotTriggerType `json:"triggerType,omitempty"`
	// FormatType is the pending checkpoint's kind.
	// +optional
	FormatType CheckpointType `json:"formatType,omitempty"`
	// LastPeriodicCheckpointTimestamp is when the last periodic checkpoint
	// was triggered.
	// +optional
	LastPeriodicCheckpointTimestamp int64 `json:"lastPeriodicCheckpointTimestamp,omitempty"`
}

// ReconciliationStatus records what the operator last deployed.
type ReconciliationStatus struct {
	// ReconciliationTimestamp is when the last spec change was reconciled,
	// epoch milliseconds.
	// +optional
	ReconciliationTimestamp int64 `json:"reconciliationTimestamp,omitempty"`
	// LastReconciledSpec is the JSON of the last deployed spec.
	// +optional
	LastReconciledSpec string `json:"lastReconciledSpec,omitempty"`
	// LastStableSpec is the JSON of the last spec that ran stably.
	// +optional
	LastStableSpec string `json:"lastStableSpec,omitempty"`
	// State is the reconciliation state.
	// +optional
	State ReconciliationState `json:"state,omitempty"`
}

// ReconciliationState is the state of the last reconciliation.
// +kubebuilder:validation:Enum=DEPLOYED;UPGRADING;ROLLING_BACK;ROLLED_BACK
type ReconciliationState string

// Reconciliation states.
const (
	ReconciliationDeployed    ReconciliationState = "DEPLOYED"
	ReconciliationUpgrading   ReconciliationState = "UPGRADING"
	ReconciliationRollingBack ReconciliationState = "ROLLING_BACK"
	ReconciliationRolledBack  ReconciliationState = "ROLLED_BACK"
)

// TaskManagerInfo is the TaskManager status read by the scale subresource.
type TaskManagerInfo struct {
	// LabelSelector selects the TaskManager pods.
	// +optional
	LabelSelector string `json:"labelSelector,omitempty"`
	// Replicas is the current number of TaskManagers.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`
}
