package flinkrest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

func TestBadResponsesGiveTypedErrors(t *testing.T) {
	for _, tc := range badResponseCases() {
		t.Run(tc.name, func(t *testing.T) { checkBadResponse(t, tc) })
	}
}

// responseSecret stands for whatever a bad response holds that an error
// must not quote.
const responseSecret = "s3cr3t-token-value"

// badResponse is what a server answers, the call that gets the answer
// (ListJobs when nil) and the kind of error and the text it must give.
type badResponse struct {
	name        string
	status      int
	contentType string
	body        string
	call        func(flinkrest.Client) error
	kind        flinkrest.Kind
	contains    string
}

func badResponseCases() []badResponse {
	const secret = responseSecret
	return []badResponse{
		{name: "malformed JSON", status: 200, contentType: "application/json", body: `{"jobs": [`,
			kind: flinkrest.KindBadResponse, contains: "malformed JSON"},
		{name: "wrong JSON type", status: 200, contentType: "application/json", body: `{"jobs": "none"}`,
			kind: flinkrest.KindBadResponse, contains: "malformed JSON"},
		{name: "HTML error page from a proxy", status: 502, contentType: "text/html",
			body: "<html><head><title>502 Bad Gateway</title></head><body>" + secret + "</body></html>",
			kind: flinkrest.KindNotReady, contains: "HTML page: 502 Bad Gateway"},
		{name: "HTML login page with 200", status: 200, contentType: "text/html; charset=utf-8",
			body: "<!DOCTYPE html><html><title>Sign in</title>" + secret + "</html>",
			kind: flinkrest.KindBadResponse, contains: "HTML page: Sign in"},
		{name: "apiserver proxy without endpoints", status: 503, contentType: "application/json",
			body: `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"no endpoints available for service \"basic-rest\"","reason":"ServiceUnavailable","code":503}`,
			kind: flinkrest.KindNotReady, contains: `no endpoints available for service "basic-rest"`},
		{name: "apiserver proxy to a missing Service", status: 404, contentType: "application/json",
			body: `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"services \"basic-rest\" not found","reason":"NotFound","details":{"name":"basic-rest","kind":"services"},"code":404}`,
			kind: flinkrest.KindNotReady, contains: `services "basic-rest" not found`},
		{name: "apiserver proxy without an Endpoints object", status: 404, contentType: "application/json",
			body: `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"endpoints \"basic-rest\" not found","reason":"NotFound","details":{"name":"basic-rest","kind":"endpoints"},"code":404}`,
			kind: flinkrest.KindNotReady, contains: `endpoints "basic-rest" not found`},
		{name: "apiserver throttling", status: 429, contentType: "application/json",
			body: `{"kind":"Status","message":"Too many requests, please try again later.","reason":"TooManyRequests","code":429}`,
			kind: flinkrest.KindNotReady, contains: "Too many requests"},
		{name: "Flink 404", status: 404, contentType: "application/json", body: `{"errors":["Not found: /jobs/overview"]}`,
			kind: flinkrest.KindNotFound, contains: "Not found: /jobs/overview"},
		{name: "apiserver forbids the proxy", status: 403, contentType: "application/json",
			body: `{"kind":"Status","message":"services \"basic-rest:rest\" is forbidden: User \"x\" cannot get resource \"services/proxy\"","code":403}`,
			kind: flinkrest.KindUnauthorized, contains: "cannot get resource"},
		{name: "Flink internal error with stack trace", status: 500, contentType: "application/json",
			body: `{"errors":["Internal server error.","<Exception on server side:\norg.apache.flink.Boom\n\tat x.y(Z.java:1)"]}`,
			kind: flinkrest.KindServerError, contains: "Internal server error.; <Exception on server side:"},
		{name: "gateway timeout", status: 504, contentType: "text/plain", body: secret,
			kind: flinkrest.KindTimeout, contains: "text/plain body"},
		{name: "plain text 200", status: 200, contentType: "text/plain", body: secret,
			kind: flinkrest.KindBadResponse, contains: "text/plain body"},
		{name: "trigger without request id", status: 202, contentType: "application/json", body: `{}`,
			call: func(c flinkrest.Client) error {
				_, err := c.TriggerSavepoint(context.Background(), "a1b2c3d4e5f60718293a4b5c6d7e8f90", flinkrest.SavepointRequest{})
				return err
			},
			kind: flinkrest.KindBadResponse, contains: "no request-id"},
		{name: "operation without a result", status: 200, contentType: "application/json", body: `{"status":{"id":"COMPLETED"}}`,
			call: func(c flinkrest.Client) error {
				_, err := c.SavepointStatus(context.Background(), "a1b2c3d4e5f60718293a4b5c6d7e8f90", "t")
				return err
			},
			kind: flinkrest.KindBadResponse, contains: "malformed operation result"},
	}
}

// checkBadResponse serves tc's answer and checks the error of tc's call:
// its kind, its text, and that it quotes nothing of the body.
func checkBadResponse(t *testing.T, tc badResponse) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", tc.contentType)
		w.WriteHeader(tc.status)
		_, _ = w.Write([]byte(tc.body))
	}))
	defer srv.Close()
	c, err := flinkrest.New(flinkrest.Endpoint{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	call := tc.call
	if call == nil {
		call = func(c flinkrest.Client) error { _, err := c.ListJobs(context.Background()); return err }
	}
	err = call(c)
	if got := flinkrest.KindOf(err); got != tc.kind {
		t.Fatalf("kind = %q, want %q (err: %v)", got, tc.kind, err)
	}
	if !strings.Contains(err.Error(), tc.contains) {
		t.Fatalf("error %q does not contain %q", err, tc.contains)
	}
	if strings.Contains(err.Error(), responseSecret) || strings.Contains(err.Error(), "\tat ") {
		t.Fatalf("error quotes the body: %q", err)
	}
}

func TestUnknownIDsAreNotFound(t *testing.T) {
	ctx := context.Background()
	const jobID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
	jm, c := serve(t, jobmanager.Config{ClusterID: "x", Application: true, Job: jobmanager.JobSpec{JobID: jobID}, SavepointDir: "file:///sp"})
	jm.SetTaskManagers([]string{"tm"})
	unknown := "ffffffffffffffffffffffffffffffff"
	for name, call := range map[string]func() error{
		"job details":  func() error { _, err := c.JobDetails(ctx, unknown); return err },
		"cancel":       func() error { return c.CancelJob(ctx, unknown) },
		"savepoint":    func() error { _, err := c.TriggerSavepoint(ctx, unknown, flinkrest.SavepointRequest{}); return err },
		"stop":         func() error { _, err := c.StopWithSavepoint(ctx, unknown, flinkrest.SavepointRequest{}); return err },
		"checkpoints":  func() error { _, err := c.CheckpointStatistics(ctx, unknown); return err },
		"exceptions":   func() error { _, err := c.Exceptions(ctx, unknown); return err },
		"sp trigger":   func() error { _, err := c.SavepointStatus(ctx, jobID, unknown); return err },
		"cp trigger":   func() error { _, err := c.CheckpointStatus(ctx, jobID, unknown); return err },
		"disposal":     func() error { _, err := c.DisposalStatus(ctx, unknown); return err },
		"cp of nobody": func() error { _, err := c.TriggerCheckpoint(ctx, unknown, flinkrest.CheckpointRequest{}); return err },
	} {
		err := call()
		if !flinkrest.IsNotFound(err) || flinkrest.IsRetryable(err) {
			t.Errorf("%s: %v, want a NotFound error", name, err)
		}
	}
	_, err := c.JobDetails(ctx, unknown)
	if !strings.Contains(err.Error(), "Could not find Flink job ("+unknown+")") {
		t.Errorf("error lacks Flink's message: %v", err)
	}
}

func TestInjectedFaults(t *testing.T) {
	ctx := context.Background()
	jm := jobmanager.New(jobmanager.Config{ClusterID: "f"})
	srv := httptest.NewServer(jm.Handler())
	defer func() { srv.Close(); jm.Stop() }()
	c, err := flinkrest.New(flinkrest.Endpoint{BaseURL: srv.URL}, flinkrest.WithTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		faults jobmanager.Faults
		kind   flinkrest.Kind
	}{
		{jobmanager.Faults{ErrorStatus: 503}, flinkrest.KindNotReady},
		{jobmanager.Faults{ErrorStatus: 500}, flinkrest.KindServerError},
		{jobmanager.Faults{Hang: true}, flinkrest.KindTimeout},
		{jobmanager.Faults{Latency: 5 * time.Second}, flinkrest.KindTimeout},
		{jobmanager.Faults{}, ""},
	}
	for _, tc := range cases {
		jm.SetFaults(tc.faults)
		_, err := c.Config(ctx)
		if got := flinkrest.KindOf(err); got != tc.kind {
			t.Errorf("faults %+v: kind %q, want %q (%v)", tc.faults, got, tc.kind, err)
		}
		if tc.kind != "" && !flinkrest.IsRetryable(err) {
			t.Errorf("faults %+v: %v is not retryable", tc.faults, err)
		}
	}
}

func TestTransportErrorsHideCredentials(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close() // nothing listens there any more
	tmpl, err := flinkrest.ParseURLTemplate("http://admin:hunter2@" + addr + "/{{.Cluster}}/{{.Namespace}}/{{.Name}}")
	if err != nil {
		t.Fatal(err)
	}
	base, err := tmpl.URL(flinkrest.Target{Cluster: "m1", Namespace: "ns", Name: "basic"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := flinkrest.New(flinkrest.Endpoint{BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Config(context.Background())
	if !flinkrest.IsNotReady(err) {
		t.Fatalf("connection refused gave %v", err)
	}
	if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "admin") {
		t.Fatalf("error shows credentials: %v", err)
	}
	if _, err := flinkrest.ParseURLTemplate("ftp://admin:hunter2@x/{{.Name}}"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("bad template error: %v", err)
	}
	if _, err := flinkrest.ParseURLTemplate("http://x/{{.Nmae}}"); err == nil {
		t.Fatal("template with an unknown field accepted")
	}
}

// flinkTrace is a body as Flink's REST handlers answer a
// RestHandlerException: one error string, the whole stack trace.
func flinkTrace(lines ...string) string {
	b, _ := json.Marshal(map[string][]string{"errors": {strings.Join(lines, "\n")}})
	return string(b)
}

func TestRunJarErrorsFromFlinkStackTraces(t *testing.T) {
	const (
		rhe  = "org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application."
		dup  = "Caused by: org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has already been submitted."
		at   = "\tat org.apache.flink.runtime.webmonitor.handlers.JarRunHandler.lambda$handleRequest$1(JarRunHandler.java:120)"
		more = "\t... 12 more"
	)
	for _, tc := range []struct {
		name, body  string
		status      int
		duplicate   bool
		contains    string
		notContains string
	}{
		{name: "duplicate job id, Flink's shape", status: 400, duplicate: true,
			body: flinkTrace(rhe, at, "Caused by: java.util.concurrent.CompletionException: org.apache.flink.util.FlinkRuntimeException: Could not execute application.", at,
				"Caused by: org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: Job has already been submitted.", at, dup, at, more),
			contains: "Could not execute application.; caused by: org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has already been submitted."},
		{name: "duplicate job id, message only", status: 400, duplicate: true,
			body: `{"errors":["Job has already been submitted: a1b2c3d4e5f60718293a4b5c6d7e8f90"]}`, contains: "Job has already been submitted"},
		{name: "entry class missing", status: 400,
			body:     flinkTrace(rhe, at, "Caused by: org.apache.flink.client.program.ProgramInvocationException: The program's entry point class 'com.example.Main' was not found in the jar file.", at, more),
			contains: "caused by: org.apache.flink.client.program.ProgramInvocationException: The program's entry point class"},
		{name: "duplicate named only in a message", status: 400,
			body:     flinkTrace(rhe, at, "Caused by: java.lang.RuntimeException: no DuplicateJobSubmissionException here", at),
			contains: "no DuplicateJobSubmissionException here"},
		{name: "duplicate in a server error", status: 500,
			body:     flinkTrace("org.apache.flink.runtime.rest.handler.RestHandlerException: boom", at, dup, at),
			contains: "boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := runJarAnswered(t, tc.status, tc.body)
			if got := flinkrest.IsDuplicateSubmission(err); got != tc.duplicate {
				t.Fatalf("IsDuplicateSubmission = %v, want %v (err: %v)", got, tc.duplicate, err)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("error %q does not contain %q", err, tc.contains)
			}
			if strings.Contains(err.Error(), "\tat ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error quotes the stack trace: %q", err)
			}
		})
	}
}

// runJarAnswered is the error of a RunJar call a server answers with
// status and a JSON body.
func runJarAnswered(t *testing.T, status int, body string) error {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	c, err := flinkrest.New(flinkrest.Endpoint{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.RunJar(context.Background(), "x.jar", api.JarRunRequestBody{JobId: "a1b2c3d4e5f60718293a4b5c6d7e8f90"})
	if err == nil {
		t.Fatal("RunJar succeeded")
	}
	return err
}

// TestLongErrorMessagesAreBounded: a JobManager's error text is quoted
// into an error's message (and from there into status.error) as the hub
// quotes hostile text: valid UTF-8, control characters made spaces, at
// most 512 bytes with the "..." of the cut.
func TestLongErrorMessagesAreBounded(t *testing.T) {
	const maxMessage = 512
	for _, tc := range []struct{ name, message string }{
		// "é" is two bytes: an odd byte count puts a character across a
		// plain byte cut.
		{"multi-byte characters", "x" + strings.Repeat("é", 600)},
		{"control characters", strings.Repeat("\x1b[31m\u0085", 200)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string][]string{"errors": {tc.message}})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write(body)
			}))
			defer srv.Close()
			c, err := flinkrest.New(flinkrest.Endpoint{BaseURL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ListJobs(context.Background())
			var fe *flinkrest.Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a *flinkrest.Error", err)
			}
			if m := fe.Message; len(m) > maxMessage || !strings.HasSuffix(m, "...") || !utf8.ValidString(m) || strings.ContainsFunc(m, unicode.IsControl) {
				t.Errorf("message of %d bytes, want at most %d, cut with \"...\", valid UTF-8 without control characters: %q", len(m), maxMessage, m)
			}
		})
	}
}
