// Package problem holds what keeps a Flink resource from its spec: a typed
// Reason with a message. A controller keeps the current problem in its
// reconcile state and derives status.error, the Ready condition and the
// Warning event from it in one place; logic decides on the Reason, never
// on the message.
package problem

import (
	"encoding/json"
	"slices"
)

// Reason is the kind of a problem: the Ready condition's reason, and
// additionalMetadata.reason of status.error.
type Reason string

// The reasons a FlinkDeployment's problem can have.
const (
	// InvalidSpec: the spec breaks a validation rule or cannot be built
	// into member objects; only a spec change helps.
	InvalidSpec Reason = "InvalidSpec"
	// JobManagerDeploymentFailed: the JobManager Deployment will not
	// become available without a change (crash loop, image, quota), or did
	// not within the readiness timeout.
	JobManagerDeploymentFailed Reason = "JobManagerDeploymentFailed"
	// JobManagerUnusable: the JobManager's REST API answers too slowly or
	// with what cannot be used.
	JobManagerUnusable Reason = "JobManagerUnusable"
	// JobFailed: the job failed for good; the message is Flink's cause.
	JobFailed Reason = "JobFailed"
	// ManualRestoreRequired: a last-state upgrade found no HA metadata to
	// restore from.
	ManualRestoreRequired Reason = "ManualRestoreRequired"
	// UpgradeBlocked: a savepoint upgrade waits for a way to save the
	// job's state.
	UpgradeBlocked Reason = "UpgradeBlocked"
	// SavepointFailed: the last savepoint failed.
	SavepointFailed Reason = "SavepointFailed"
	// CheckpointFailed: the last manual or periodic checkpoint failed.
	CheckpointFailed Reason = "CheckpointFailed"
	// ReconcileFailed: a reconcile failed for a reason outside the spec
	// (the member refused a request, or did not answer).
	ReconcileFailed Reason = "ReconcileFailed"
	// SessionClusterUnavailable: a session job's session cluster does not
	// exist or is not ready.
	SessionClusterUnavailable Reason = "SessionClusterUnavailable"
	// JarUnavailable: a session job's jar cannot be fetched or uploaded.
	JarUnavailable Reason = "JarUnavailable"
	// DeletionBlocked: a session cluster's deletion waits for the session
	// jobs that still name it.
	DeletionBlocked Reason = "DeletionBlocked"
	// Unknown: status.error written by something other than the hub (an
	// older hub, the Apache operator), kept as it is.
	Unknown Reason = "Unknown"
)

// Problem is what keeps a resource from its spec; the zero Problem is
// none.
type Problem struct {
	// Reason is the kind of problem.
	Reason Reason
	// Message says in the user's words what happened and what to do.
	Message string
	// Event is the reason of the Warning event announcing the problem
	// when it is not Reason's usual one (EventReason); it is not recorded
	// in status.
	Event string
}

// New is a problem of reason r saying msg.
func New(r Reason, msg string) Problem { return Problem{Reason: r, Message: msg} }

// IsZero reports whether p is no problem.
func (p Problem) IsZero() bool { return p.Reason == "" && p.Message == "" }

// Is reports whether p has one of reasons.
func (p Problem) Is(reasons ...Reason) bool { return !p.IsZero() && slices.Contains(reasons, p.Reason) }

// Same reports whether p and q say the same thing (the event reason aside).
func (p Problem) Same(q Problem) bool { return p.Reason == q.Reason && p.Message == q.Message }

// EventReason is the reason of the Warning event announcing p: p.Event, or
// the name the Apache operator's events use for its kind.
func (p Problem) EventReason() string {
	if p.Event != "" {
		return p.Event
	}
	if e, ok := eventReasons[p.Reason]; ok {
		return e
	}
	return string(p.Reason)
}

var eventReasons = map[Reason]string{
	InvalidSpec:           "ValidationError",
	ManualRestoreRequired: "RestoreFailed",
	SavepointFailed:       "SavepointError",
	CheckpointFailed:      "CheckpointError",
	JobManagerUnusable:    "JobManagerBadResponse",
}

// exceptionPackage is the Java package of the Apache operator's exceptions.
const exceptionPackage = "org.apache.flink.kubernetes.operator.exception."

// exceptionTypes names, per reason, the Apache operator exception whose
// type status.error carries, so tools built for it read ours.
var exceptionTypes = map[Reason]string{
	InvalidSpec:                exceptionPackage + "ValidationException",
	JobManagerDeploymentFailed: exceptionPackage + "DeploymentFailedException",
	ManualRestoreRequired:      exceptionPackage + "UpgradeFailureException",
	UpgradeBlocked:             exceptionPackage + "UpgradeFailureException",
}

// exception is the JSON of the Apache operator's FlinkResourceException,
// status.error's form there.
type exception struct {
	Type               string            `json:"type,omitempty"`
	Message            string            `json:"message,omitempty"`
	AdditionalMetadata map[string]string `json:"additionalMetadata,omitempty"`
}

// reasonKey is the additionalMetadata key that keeps the Reason.
const reasonKey = "reason"

// Encode is p as status.error: "" for no problem, else the Apache
// operator's FlinkResourceException JSON with the reason in
// additionalMetadata.
func Encode(p Problem) string {
	if p.IsZero() {
		return ""
	}
	typ, ok := exceptionTypes[p.Reason]
	if !ok {
		typ = exceptionPackage + "ReconciliationException"
	}
	raw, _ := json.Marshal(exception{Type: typ, Message: p.Message, AdditionalMetadata: map[string]string{reasonKey: string(p.Reason)}})
	return string(raw)
}

// Current is the problem a status.error the hub wrote records. Text the
// hub did not write (an older hub's plain text) is dropped: the reconcile
// finds again whatever still holds.
func Current(statusError string) Problem {
	p := Decode(statusError)
	if p.Is(Unknown) {
		return Problem{}
	}
	return p
}

// Decode reads status.error back into a Problem. Text that is not the
// JSON Encode writes (an older hub's plain text, the Apache operator's own
// exceptions) is an Unknown problem with that text (or its message).
func Decode(s string) Problem {
	if s == "" {
		return Problem{}
	}
	var e exception
	if err := json.Unmarshal([]byte(s), &e); err != nil || e.Message == "" {
		return Problem{Reason: Unknown, Message: s}
	}
	r := Reason(e.AdditionalMetadata[reasonKey])
	if r == "" {
		r = Unknown
	}
	return Problem{Reason: r, Message: e.Message}
}

// Message is the human message of a status.error, whatever its form.
func Message(statusError string) string { return Decode(statusError).Message }
