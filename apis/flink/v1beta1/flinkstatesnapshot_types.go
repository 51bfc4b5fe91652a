package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FlinkStateSnapshot is a savepoint or checkpoint of a job, asked for and
// tracked as a resource: the operator triggers it on the job its spec
// references, records where it was written, and, for a savepoint with
// disposeOnDelete, disposes of it when the resource is deleted. A snapshot
// with alreadyExists records a savepoint taken before.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=flinksnp
// +kubebuilder:metadata:annotations="flink-hub.io/installed-by=flink-hub"
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Path",type=string,JSONPath=`.status.path`
// +kubebuilder:printcolumn:name="Result Timestamp",type=string,JSONPath=`.status.resultTimestamp`
// +kubebuilder:printcolumn:name="Snapshot State",type=string,JSONPath=`.status.state`
type FlinkStateSnapshot struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the snapshot asked for.
	Spec FlinkStateSnapshotSpec `json:"spec,omitempty"`
	// Status is the snapshot's progress, written by the operator.
	Status FlinkStateSnapshotStatus `json:"status,omitempty"`
}

// FlinkStateSnapshotSpec says what to snapshot and how: a savepoint or a
// checkpoint (exactly one) of the referenced job.
type FlinkStateSnapshotSpec struct {
	// BackoffLimit is how many times a failed snapshot is triggered again
	// before it is FAILED: 0 never, -1 (upstream's default when unset)
	// without end.
	// +optional
	BackoffLimit *int32 `json:"backoffLimit,omitempty"`

	// Checkpoint asks for a checkpoint.
	// +optional
	Checkpoint *CheckpointSpec `json:"checkpoint,omitempty"`

	// JobReference names the job, a FlinkDeployment or FlinkSessionJob of
	// the snapshot's namespace; none for a savepoint that already exists.
	// +optional
	JobReference *JobReference `json:"jobReference,omitempty"`

	// Savepoint asks for a savepoint, or records an existing one.
	// +optional
	Savepoint *SavepointSpec `json:"savepoint,omitempty"`
}

// CheckpointSpec asks for a checkpoint; it has no settings.
type CheckpointSpec struct{}

// SavepointSpec describes a savepoint to take or one that exists.
type SavepointSpec struct {
	// AlreadyExists records the savepoint at Path instead of taking one.
	// +optional
	AlreadyExists bool `json:"alreadyExists,omitempty"`

	// DisposeOnDelete disposes of the savepoint's files when the snapshot
	// is deleted.
	// +optional
	DisposeOnDelete bool `json:"disposeOnDelete,omitempty"`

	// FormatType is the savepoint's binary format.
	// +optional
	FormatType SavepointFormatType `json:"formatType,omitempty"`

	// Path is the directory to write the savepoint in (the job's
	// state.savepoints.dir when empty), or where an existing one is.
	// +optional
	Path string `json:"path,omitempty"`
}

// JobKind is the kind of resource a snapshot's job is.
// +kubebuilder:validation:Enum=FlinkDeployment;FlinkSessionJob
type JobKind string

// Job kinds a snapshot references.
const (
	JobKindFlinkDeployment JobKind = "FlinkDeployment"
	JobKindFlinkSessionJob JobKind = "FlinkSessionJob"
)

// JobReference names the job a snapshot is of.
type JobReference struct {
	// Kind is FlinkDeployment or FlinkSessionJob.
	// +optional
	Kind JobKind `json:"kind,omitempty"`

	// Name is the resource's name in the snapshot's namespace.
	// +optional
	Name string `json:"name,omitempty"`
}

// FlinkStateSnapshotReference names a FlinkStateSnapshot, or gives a
// savepoint path directly.
type FlinkStateSnapshotReference struct {
	// Namespace is the snapshot's namespace (the referrer's when empty).
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Name is the snapshot's name.
	// +optional
	Name string `json:"name,omitempty"`

	// Path, when set, is the savepoint path and the other fields are
	// ignored.
	// +optional
	Path string `json:"path,omitempty"`
}

// SnapshotState is where a snapshot is in its life.
// +kubebuilder:validation:Enum=ABANDONED;COMPLETED;FAILED;IN_PROGRESS;TRIGGER_PENDING
type SnapshotState string

// Snapshot states, as upstream names them.
const (
	// SnapshotTriggerPending: not triggered yet, or to be triggered again
	// after a failure.
	SnapshotTriggerPending SnapshotState = "TRIGGER_PENDING"
	// SnapshotInProgress: triggered, Flink is taking it.
	SnapshotInProgress SnapshotState = "IN_PROGRESS"
	// SnapshotCompleted: taken (or recorded); Path says where.
	SnapshotCompleted SnapshotState = "COMPLETED"
	// SnapshotFailed: failed more often than the backoff limit allows.
	SnapshotFailed SnapshotState = "FAILED"
	// SnapshotAbandoned: its job is gone or not running, so it cannot be
	// taken.
	SnapshotAbandoned SnapshotState = "ABANDONED"
)

// FlinkStateSnapshotStatus is a snapshot's progress.
type FlinkStateSnapshotStatus struct {
	// Error is why the last attempt failed.
	// +optional
	Error string `json:"error,omitempty"`

	// Failures counts the failed attempts.
	// +optional
	Failures int32 `json:"failures,omitempty"`

	// Path is where the snapshot was written.
	// +optional
	Path string `json:"path,omitempty"`

	// ResultTimestamp is when the snapshot completed or failed for good
	// (RFC 3339).
	// +optional
	ResultTimestamp string `json:"resultTimestamp,omitempty"`

	// State is where the snapshot is in its life.
	// +optional
	State SnapshotState `json:"state,omitempty"`

	// TriggerID is Flink's trigger id of the attempt in progress.
	// +optional
	TriggerID string `json:"triggerId,omitempty"`

	// TriggerTimestamp is when the attempt in progress was triggered
	// (RFC 3339).
	// +optional
	TriggerTimestamp string `json:"triggerTimestamp,omitempty"`
}

// FlinkStateSnapshotList is a list of FlinkStateSnapshots.
//
// +kubebuilder:object:root=true
type FlinkStateSnapshotList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FlinkStateSnapshot `json:"items"`
}

// Retries is the backoff limit: how many failed attempts are triggered
// again; negative for no limit.
func (s *FlinkStateSnapshotSpec) Retries() int32 {
	if s.BackoffLimit == nil {
		return -1
	}
	return *s.BackoffLimit
}
