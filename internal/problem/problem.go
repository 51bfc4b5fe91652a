// Package problem holds what keeps a Flink resource from its spec: a typed
// Reason with a message. A controller keeps the current problem in its
// reconcile state and derives status.error, the Ready condition and the
// Warning event from it in one place; logic decides on the Reason, never
// on the message.
package problem

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/flink-hub/flink-hub/internal/boundedtext"
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
	// UpgradeStalled: an upgrade waits on Flink longer than it should (a
	// job cancelled for a last-state upgrade, or a session job's stateless
	// one, still CANCELLING past flink.client.cancel.timeout; an
	// upgrade's stop-with-savepoint, or a savepoint the upgrade waits for,
	// past execution.checkpointing.timeout); the hub keeps waiting.
	UpgradeStalled Reason = "UpgradeStalled"
	// SavepointStalled: a savepoint no upgrade waits for (the deletion's
	// stop-with-savepoint among them) has been in progress longer than
	// Flink's execution.checkpointing.timeout; the hub keeps following it.
	SavepointStalled Reason = "SavepointStalled"
	// CheckpointStalled: a manual or periodic checkpoint no upgrade waits
	// for has been in progress longer than Flink's
	// execution.checkpointing.timeout; the hub keeps following it.
	CheckpointStalled Reason = "CheckpointStalled"
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
	// JobResultGone: Flink refuses a session job's recorded job id as
	// already submitted (its job result store holds it: the answer to the
	// submission was lost) but no longer shows the job: it ended and its
	// details and result expired before the hub saw them, so how it ended
	// is unknown. The job is not run again.
	JobResultGone Reason = "JobResultGone"
	// DeletionBlocked: a session cluster's deletion waits for the session
	// jobs that still name it.
	DeletionBlocked Reason = "DeletionBlocked"
	// DeletionStalled: a JobManager Deployment the hub deleted (for the
	// resource's deletion, an upgrade or a shutdown), or a REST Service it
	// replaces, has been going for longer than the readiness timeout; the
	// hub keeps waiting.
	DeletionStalled Reason = "DeletionStalled"
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
	// StackTrace is the stack trace behind the problem when there is one
	// (a failed job's, from Flink); status.error carries it only when
	// asked to (ExceptionOptions.StackTrace).
	StackTrace string
	// Causes are the stack trace's causes, outermost first, one
	// "type: message" a line (status.error's throwableList); a string, so
	// that problems compare.
	Causes string
	// Labels are the labels status.error gave the problem
	// (ExceptionOptions.Labels), comma-separated, kept so that a rewrite
	// keeps them.
	Labels string
	// Failures counts the attempts that failed in a row with this
	// problem's reason, when its reason counts them (SavepointFailed and
	// CheckpointFailed, made by Repeated); status.error keeps it in
	// additionalMetadata.failures, so that the next failure counts on
	// from it.
	Failures int
}

// Cause is one cause of a problem's stack trace.
type Cause struct{ Type, Message string }

// CauseList is p's causes.
func (p Problem) CauseList() []Cause {
	var out []Cause
	for _, line := range strings.Split(p.Causes, "\n") {
		if line == "" {
			continue
		}
		typ, msg, _ := strings.Cut(line, ": ")
		out = append(out, Cause{Type: typ, Message: msg})
	}
	return out
}

// causeLines joins causes as Problem.Causes holds them.
func causeLines(causes []Cause) string {
	lines := make([]string, 0, len(causes))
	for _, c := range causes {
		lines = append(lines, c.Type+": "+c.Message)
	}
	return strings.Join(lines, "\n")
}

// maxTrace bounds the stack trace a problem keeps (the JobManager's
// text); status.error cuts it further.
const maxTrace = 64 << 10

// WithTrace is p with trace as its stack trace, and its "Caused by:" lines
// as its causes.
func WithTrace(p Problem, trace string) Problem {
	p.StackTrace = boundedtext.Cut(trace, maxTrace)
	p.Causes = causeLines(causesOf(p.StackTrace))
	return p
}

// New is a problem of reason r saying msg.
func New(r Reason, msg string) Problem { return Problem{Reason: r, Message: msg} }

// Repeated is the problem of reason for an attempt at what (a
// "savepoint", a "checkpoint") that failed: "<what> failed (<once, or N
// times in a row>): <detail>". The count, kept in Failures, goes on from
// prev when prev has the same reason (a count an older hub did not keep
// is one), else starts at one: any other problem, or none, in between
// ends the row.
func Repeated(prev Problem, reason Reason, what, detail string) Problem {
	n := 1
	if prev.Is(reason) {
		n = max(prev.Failures, 1) + 1
	}
	times := "once"
	if n > 1 {
		times = strconv.Itoa(n) + " times in a row"
	}
	p := New(reason, what+" failed ("+times+"): "+detail)
	p.Failures = n
	return p
}

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
	UpgradeStalled:             exceptionPackage + "UpgradeFailureException",
}

// exception is the JSON of the Apache operator's FlinkResourceException,
// status.error's form there.
type exception struct {
	Type               string         `json:"type,omitempty"`
	Message            string         `json:"message,omitempty"`
	StackTrace         string         `json:"stackTrace,omitempty"`
	AdditionalMetadata map[string]any `json:"additionalMetadata,omitempty"`
	ThrowableList      []exception    `json:"throwableList,omitempty"`
}

// ExceptionOptions are the Apache operator's kubernetes.operator.exception.*
// settings, which shape status.error.
type ExceptionOptions struct {
	// StackTrace includes the problem's stack trace, cut to
	// StackTraceMax.
	StackTrace    bool
	StackTraceMax int
	// FieldMax cuts every other field.
	FieldMax int
	// ThrowableMax bounds throwableList: the causes ("Caused by:" lines)
	// of the stack trace.
	ThrowableMax int
	// Labels map a pattern to a label that additionalMetadata.labels
	// holds when the message or a cause matches it.
	Labels map[*regexp.Regexp]string
}

// DefaultExceptionOptions are upstream's defaults.
func DefaultExceptionOptions() ExceptionOptions {
	return ExceptionOptions{StackTraceMax: 2048, FieldMax: 2048, ThrowableMax: 2}
}

// reasonKey and failuresKey are the additionalMetadata keys that keep the
// Reason and the Failures.
const (
	reasonKey   = "reason"
	failuresKey = "failures"
)

// Encode is p as status.error: "" for no problem, else the Apache
// operator's FlinkResourceException JSON with the reason in
// additionalMetadata.
func Encode(p Problem) string { return EncodeWith(p, DefaultExceptionOptions()) }

// EncodeWith is Encode shaped by the exception settings o, as upstream's
// FlinkResourceExceptionUtils shapes it: fields cut to FieldMax, the stack
// trace when asked (both limits the default when not positive, and at most
// MaxExceptionField), the causes in throwableList, and labels.
func EncodeWith(p Problem, o ExceptionOptions) string {
	if p.IsZero() {
		return ""
	}
	typ, ok := exceptionTypes[p.Reason]
	if !ok {
		typ = exceptionPackage + "ReconciliationException"
	}
	def := DefaultExceptionOptions()
	fieldMax := exceptionLimit(o.FieldMax, def.FieldMax)
	e := exception{Type: boundedtext.Cut(typ, fieldMax), Message: boundedtext.Cut(p.Message, fieldMax), AdditionalMetadata: map[string]any{reasonKey: string(p.Reason)}}
	if o.StackTrace && p.StackTrace != "" {
		e.StackTrace = boundedtext.Cut(p.StackTrace, exceptionLimit(o.StackTraceMax, def.StackTraceMax))
	}
	causes := p.CauseList()
	for _, c := range causes[:min(len(causes), max(o.ThrowableMax, 0))] {
		e.ThrowableList = append(e.ThrowableList, exception{Type: boundedtext.Cut(c.Type, fieldMax), Message: boundedtext.Cut(c.Message, fieldMax)})
	}
	var labels []string
	if p.Labels != "" {
		labels = strings.Split(p.Labels, ",")
	}
	for re, label := range o.Labels {
		if re.MatchString(p.Message) || slices.ContainsFunc(causes, func(c Cause) bool { return re.MatchString(c.Message) }) {
			labels = append(labels, label)
		}
	}
	if len(labels) > 0 {
		slices.Sort(labels)
		e.AdditionalMetadata["labels"] = slices.Compact(labels)
	}
	if p.Failures > 0 {
		e.AdditionalMetadata[failuresKey] = p.Failures
	}
	raw, _ := json.Marshal(e)
	return string(raw)
}

// Bounds of the text the controllers write: a condition message (the
// CRDs' maxLength for metav1.Condition), an events.k8s.io/v1 note (the
// apiserver refuses longer ones), and each status.error field whatever the
// exception settings say.
const (
	MaxConditionMessage = 32768
	MaxEventNote        = 1024
	MaxExceptionField   = 16384
)

// exceptionLimit is the length limit an exception setting n gives: def
// for n <= 0 (upstream has no meaning for it, and it would leave the field
// uncut), never above MaxExceptionField.
func exceptionLimit(n, def int) int {
	if n <= 0 {
		return def
	}
	return min(n, MaxExceptionField)
}

// maxCauses bounds the causes read from a stack trace (tenant text).
const maxCauses = 32

// causesOf reads the "Caused by:" lines of a Java stack trace, outermost
// first.
func causesOf(trace string) []Cause {
	var out []Cause
	for _, line := range strings.Split(trace, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "Caused by: ")
		if !ok {
			continue
		}
		typ, msg, _ := strings.Cut(rest, ": ")
		out = append(out, Cause{Type: typ, Message: msg})
		if len(out) == maxCauses {
			break
		}
	}
	return out
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
	name, _ := e.AdditionalMetadata[reasonKey].(string)
	r := Reason(name)
	if r == "" {
		r = Unknown
	}
	var causes []Cause
	for _, t := range e.ThrowableList {
		causes = append(causes, Cause{Type: t.Type, Message: t.Message})
	}
	var labels []string
	if l, ok := e.AdditionalMetadata["labels"].([]any); ok {
		for _, v := range l {
			if s, ok := v.(string); ok {
				labels = append(labels, s)
			}
		}
	}
	failures, _ := e.AdditionalMetadata[failuresKey].(float64)
	return Problem{Reason: r, Message: e.Message, StackTrace: e.StackTrace, Causes: causeLines(causes), Labels: strings.Join(labels, ","), Failures: int(min(max(failures, 0), maxFailures))}
}

// maxFailures bounds the Failures read back from a status.error (anyone
// who may write the status may write any number there).
const maxFailures = 1 << 20

// Message is the human message of a status.error, whatever its form.
func Message(statusError string) string { return Decode(statusError).Message }

// RedactURI is uri fit to quote in an error, condition, event or trace
// span: without its userinfo (ftp://deploy:secret@host/job.jar names
// ftp://host/job.jar), "(unparsable URI)" when it does not parse (its
// text could still hold a password), and an opaque URI with an '@' shown
// by its scheme alone.
func RedactURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "(unparsable URI)"
	}
	if strings.Contains(u.Opaque, "@") {
		return u.Scheme + ":(redacted)"
	}
	u.User = nil
	return u.String()
}
