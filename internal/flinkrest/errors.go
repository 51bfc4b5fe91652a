package flinkrest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/flink-hub/flink-hub/internal/boundedtext"
)

// Kind says what went wrong in a Flink REST call, at the level the
// controller decides on.
type Kind string

const (
	// KindNotFound: the job, trigger, jar or path is unknown to the JobManager (404).
	KindNotFound Kind = "NotFound"
	// KindNotReady: the JobManager cannot be reached or is not serving yet:
	// connection refused, no endpoints behind the service proxy, 502 or 503,
	// or the apiserver asks to come back later (429).
	KindNotReady Kind = "NotReady"
	// KindTimeout: the call ran out of time (client timeout, 504, 408).
	KindTimeout Kind = "Timeout"
	// KindServerError: the JobManager failed the request (500 and other 5xx).
	KindServerError Kind = "ServerError"
	// KindRejected: the JobManager refused the request (other 4xx), for
	// example a savepoint of a job that is not running.
	KindRejected Kind = "Rejected"
	// KindUnauthorized: the member apiserver refused the hub's credentials
	// for the service proxy (401, 403).
	KindUnauthorized Kind = "Unauthorized"
	// KindBadResponse: the answer could not be understood or is refused:
	// malformed JSON, an HTML page, a missing field, a redirect, a body
	// beyond MaxResponseBytes.
	KindBadResponse Kind = "BadResponse"
)

// Error is the error of every Client call. Its message holds the operation,
// the HTTP status and the server's own message (Flink's "errors" or a
// Kubernetes Status message), never a response body of unknown form nor a
// URL with credentials.
type Error struct {
	// Kind classifies the failure.
	Kind Kind
	// Op is the Flink REST operation, e.g. "getJobDetails".
	Op string
	// StatusCode is the HTTP status, 0 when no response arrived.
	StatusCode int
	// Message is the server's explanation, possibly empty: the first line
	// of each of Flink's errors and, for a stack trace, its root cause.
	Message string
	// Exceptions names the Java exception classes of the stack traces in
	// Flink's errors, outermost first (each trace's first line and its
	// "Caused by:" lines), at most maxExceptions. Not part of Error().
	Exceptions []string
	// Err is the underlying transport or decoding error, if any.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "flink rest %s: %s", e.Op, e.Kind)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of a Client error, "" for nil or foreign errors.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// IsNotFound reports whether err is a KindNotFound error.
func IsNotFound(err error) bool { return KindOf(err) == KindNotFound }

// IsNotReady reports whether err is a KindNotReady error.
func IsNotReady(err error) bool { return KindOf(err) == KindNotReady }

// IsTimeout reports whether err is a KindTimeout error.
func IsTimeout(err error) bool { return KindOf(err) == KindTimeout }

// IsDuplicateSubmission reports whether err is Flink refusing a job
// submission because the job id is already known: running, or already in
// a globally terminal state. Flink says so by a DuplicateJobSubmissionException
// in the cause chain of the stack trace it answers (the first line, all a
// Message keeps, is only "Could not execute application."); an error whose
// message says "has already been submitted" counts too.
func IsDuplicateSubmission(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindRejected {
		return false
	}
	for _, x := range e.Exceptions {
		if x == "DuplicateJobSubmissionException" || strings.HasSuffix(x, ".DuplicateJobSubmissionException") {
			return true
		}
	}
	return strings.Contains(e.Message, "has already been submitted")
}

// IsServerError reports whether err is a KindServerError error.
func IsServerError(err error) bool { return KindOf(err) == KindServerError }

// IsRetryable reports whether the same call may succeed later unchanged:
// the JobManager was not ready, slow, or failed internally.
func IsRetryable(err error) bool {
	switch KindOf(err) {
	case KindNotReady, KindTimeout, KindServerError:
		return true
	}
	return false
}

// kindForStatus classifies a non-2xx HTTP status.
func kindForStatus(code int) Kind {
	switch {
	case code == 404:
		return KindNotFound
	case code == 401 || code == 403:
		return KindUnauthorized
	case code == 408 || code == 504:
		return KindTimeout
	case code == 502 || code == 503 || code == 429:
		return KindNotReady
	case code >= 500:
		return KindServerError
	default:
		return KindRejected
	}
}

// maxMessage bounds the server message kept in an error.
const maxMessage = 512

// statusError builds the error of a response with an unexpected status.
// A 404 from the apiserver's service proxy because the REST Service or its
// Endpoints do not exist (yet) means the JobManager is not ready, not that
// Flink lacks the job.
func statusError(op string, code int, contentType string, body []byte) *Error {
	kind := kindForStatus(code)
	if kind == KindNotFound && missingService(body) {
		kind = KindNotReady
	}
	e := &Error{Kind: kind, Op: op, StatusCode: code, Message: serverMessage(contentType, body)}
	if errs := flinkErrors(contentType, body); len(errs) > 0 {
		var root string
		for _, s := range errs {
			var r string
			e.Exceptions, r = traceExceptions(s, e.Exceptions)
			if r != "" {
				root = r
			}
		}
		e.Message = withRoot(e.Message, root)
	}
	return e
}

// maxExceptions bounds Error.Exceptions; maxRoot the root cause kept in
// an error's message.
const (
	maxExceptions = 32
	maxRoot       = 256
)

// flinkErrors is the "errors" list of a Flink JSON error body, nil for any
// other body.
func flinkErrors(contentType string, body []byte) []string {
	media, _, _ := mime.ParseMediaType(contentType)
	if !strings.Contains(media, "json") && (media != "" || !json.Valid(body)) {
		return nil
	}
	var doc struct {
		Errors []string `json:"errors"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return nil
	}
	return doc.Errors
}

// traceExceptions appends to names the exception classes of the Java
// stack trace s (its first line and each "Caused by:" line; at most
// maxExceptions in all) and returns the first line of its innermost cause,
// "" when s has no "Caused by:".
func traceExceptions(s string, names []string) ([]string, string) {
	var root string
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		cause, isCause := strings.CutPrefix(line, "Caused by: ")
		if i > 0 && !isCause {
			continue
		}
		if isCause {
			root = cause
		}
		if name := exceptionClass(cause); name != "" && len(names) < maxExceptions {
			names = append(names, name)
		}
	}
	return names, root
}

// exceptionClass is the Java class name that starts a stack trace line
// ("org.x.SomeException: message"), "" when the line does not start with
// one.
func exceptionClass(line string) string {
	name, _, _ := strings.Cut(line, ":")
	if name == "" || strings.ContainsAny(name, " \t<>") || !strings.Contains(name, ".") {
		return ""
	}
	return name
}

// missingService reports whether body is a Kubernetes Status saying that a
// Service or its Endpoints were not found.
func missingService(body []byte) bool {
	var st struct {
		Kind    string `json:"kind"`
		Reason  string `json:"reason"`
		Details struct {
			Kind string `json:"kind"`
		} `json:"details"`
	}
	if json.Unmarshal(body, &st) != nil || st.Kind != "Status" || st.Reason != "NotFound" {
		return false
	}
	return st.Details.Kind == "services" || st.Details.Kind == "endpoints"
}

// badResponse builds the error of a 2xx response that cannot be used.
func badResponse(op string, code int, contentType string, body []byte, why string) *Error {
	msg := why
	if m := serverMessage(contentType, body); m != "" {
		msg += "; " + m
	}
	return &Error{Kind: KindBadResponse, Op: op, StatusCode: code, Message: msg}
}

var htmlTitle = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// serverMessage extracts what the server says went wrong: Flink's
// {"errors": [...]} (first line of each, without Java stack traces), a
// Kubernetes Status message, or an HTML page's title. Any other body is
// described, not quoted.
func serverMessage(contentType string, body []byte) string {
	if len(body) == 0 {
		return ""
	}
	media, _, _ := mime.ParseMediaType(contentType)
	var doc struct {
		Errors  []string `json:"errors"`
		Kind    string   `json:"kind"`
		Message string   `json:"message"`
	}
	if strings.Contains(media, "json") || (media == "" && json.Valid(body)) {
		if err := json.Unmarshal(body, &doc); err != nil {
			return fmt.Sprintf("malformed JSON error body (%d bytes)", len(body))
		}
		var parts []string
		for _, e := range doc.Errors {
			if line := firstLine(e); line != "" {
				parts = append(parts, line)
			}
		}
		if len(parts) == 0 && doc.Message != "" {
			parts = append(parts, firstLine(doc.Message))
		}
		return truncate(strings.Join(parts, "; "))
	}
	if media == "text/html" || strings.HasPrefix(strings.TrimSpace(strings.ToLower(string(body[:min(len(body), 64)]))), "<") {
		if m := htmlTitle.FindSubmatch(body); m != nil {
			return truncate("HTML page: " + strings.TrimSpace(string(m[1])))
		}
		return "HTML page"
	}
	if media == "" {
		media = "unknown"
	}
	return fmt.Sprintf("%s body (%d bytes)", media, len(body))
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}

// truncate is the JobManager text s as an error quotes it: at most
// maxMessage bytes, by boundedtext.Quote.
func truncate(s string) string { return boundedtext.Quote(s, maxMessage) }

// withRoot is msg followed by the root cause root (its first maxRoot
// bytes), unless root is empty or msg names it already.
func withRoot(msg, root string) string {
	if root == "" || strings.Contains(msg, root) {
		return msg
	}
	return truncate(msg + "; caused by: " + boundedtext.Quote(root, maxRoot))
}

// transportError classifies an error from sending a request or decoding
// its response. A *url.Error is unwrapped so that the URL, which may hold
// credentials in the url transport, never reaches the message.
func transportError(op string, ctx context.Context, err error) *Error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	var nerr net.Error
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var redirect *RedirectError
	var tooLarge *BodyTooLargeError
	switch {
	case errors.As(err, &redirect) || errors.As(err, &tooLarge):
		return &Error{Kind: KindBadResponse, Op: op, Err: err}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &Error{Kind: KindTimeout, Op: op, Err: err}
	case errors.As(err, &syntax) || errors.As(err, &typ):
		return &Error{Kind: KindBadResponse, Op: op, Message: "malformed JSON", Err: err}
	case errors.As(err, &nerr) && nerr.Timeout():
		return &Error{Kind: KindTimeout, Op: op, Err: err}
	default:
		return &Error{Kind: KindNotReady, Op: op, Err: err}
	}
}
