package flinkrest_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// TestHostileJobManagerThroughTheProxy sends the proxy transport, with the
// hub's bearer token for the member, to a simulated JobManager that answers
// every request in a hostile way, behind a stand-in of the member
// apiserver's service proxy. No answer gets the token anywhere else, makes
// the client read much, or holds it beyond its timeout.
func TestHostileJobManagerThroughTheProxy(t *testing.T) {
	const token = "member-token-s3cr3t"
	rec := &jobmanager.Elsewhere{}
	elsewhere := httptest.NewServer(rec)
	t.Cleanup(elsewhere.Close)

	jm := jobmanager.New(jobmanager.Config{ClusterID: "basic"})
	prefix := "/api/v1/namespaces/flink/services/basic-rest:rest/proxy"
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", http.StripPrefix(prefix, jm.Handler()))
	apiserver := httptest.NewServer(mux)
	t.Cleanup(func() { apiserver.Close(); jm.Stop() })

	resolver, err := flinkrest.NewResolver(flinkrest.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	member := &rest.Config{Host: apiserver.URL, BearerToken: token}
	c, err := resolver.Client(flinkrest.Target{Cluster: "m1", Namespace: "flink", Name: "basic"}, member)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Config(context.Background()); err != nil {
		t.Fatalf("well-behaved JobManager: %v", err)
	}

	cases := []struct {
		hostile  jobmanager.Hostile
		wantKind flinkrest.Kind
		wantMsg  string
	}{
		{jobmanager.HostileRedirect, flinkrest.KindBadResponse, "JobManager answered a redirect to " + elsewhere.URL + "; redirects are not followed"},
		{jobmanager.HostileHugeBody, flinkrest.KindBadResponse, "JobManager answer larger than 4 MiB; not read further"},
		{jobmanager.HostileEndlessBody, flinkrest.KindBadResponse, "JobManager answer larger than 4 MiB; not read further"},
		{jobmanager.HostileInvalidJSON, flinkrest.KindBadResponse, "malformed JSON"},
		{jobmanager.HostileStall, flinkrest.KindTimeout, "deadline exceeded"},
	}
	for _, tc := range cases {
		t.Run(string(tc.hostile), func(t *testing.T) {
			jm.SetFaults(jobmanager.Faults{Hostile: tc.hostile, RedirectTo: elsewhere.URL + "/steal?leak=" + token})
			_, err := c.Config(context.Background())
			if flinkrest.KindOf(err) != tc.wantKind || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("got %v; want %s containing %q", err, tc.wantKind, tc.wantMsg)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "leak") {
				t.Fatalf("error shows the token or the redirect's query: %v", err)
			}
		})
	}
	if got := rec.Requests(); len(got) != 0 {
		t.Fatalf("the redirect target got %d requests, Authorization %q", len(got), got)
	}
	// The client stopped reading at its limit: the hostile server could
	// write little more than the limit plus the sockets' buffers.
	if n := jm.LargestHostileBody(); n > jobmanager.HugeBodyBytes/4 {
		t.Fatalf("a hostile answer wrote %d bytes before the client gave up", n)
	}
}

// TestResponseBodyLimit: an answer of exactly MaxResponseBytes is read,
// one byte more fails, whether its length is declared or not.
func TestResponseBodyLimit(t *testing.T) {
	cases := []struct {
		size     int
		declared bool
		wantErr  bool
	}{
		{size: flinkrest.MaxResponseBytes, declared: true},
		{size: flinkrest.MaxResponseBytes, declared: false},
		{size: flinkrest.MaxResponseBytes + 1, declared: true, wantErr: true},
		{size: flinkrest.MaxResponseBytes + 1, declared: false, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(strconv.Itoa(tc.size)+" declared "+strconv.FormatBool(tc.declared), func(t *testing.T) {
			body := []byte(`{"flink-version":"1.19.1"}`)
			body = append(body, bytes.Repeat([]byte(" "), tc.size-len(body))...)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if tc.declared {
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				}
				_, _ = w.Write(body)
			}))
			t.Cleanup(srv.Close)
			c, err := flinkrest.New(flinkrest.Endpoint{BaseURL: srv.URL + "/"})
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := c.Config(context.Background())
			switch {
			case tc.wantErr && !strings.Contains(errString(err), "larger than 4 MiB"):
				t.Fatalf("%d bytes: %v", tc.size, err)
			case !tc.wantErr && (err != nil || cfg.FlinkVersion != "1.19.1"):
				t.Fatalf("%d bytes: %+v, %v", tc.size, cfg, err)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestJobAnswersChecked: a job whose id is not a Flink JobID or whose
// state is not one of Flink's is refused as a bad answer, quoting at most
// a little of it; a name beyond MaxJobNameBytes is cut on a character
// boundary; a job as Flink writes it passes whole.
func TestJobAnswersChecked(t *testing.T) {
	const id = "0123456789abcdef0123456789ABCDEF"
	long := strings.Repeat("é", flinkrest.MaxJobNameBytes) // two bytes a character
	cases := []struct {
		name, job string
		wantErr   string
		wantName  string
	}{
		{"as Flink writes it", `{"jid":"` + id + `","name":"orders","state":"RUNNING"}`, "", "orders"},
		{"a path for an id", `{"jid":"../../jars/x","name":"n","state":"RUNNING"}`, `not a Flink job id: "../../jars/x"`, ""},
		{"no id", `{"name":"n","state":"RUNNING"}`, `not a Flink job id: ""`, ""},
		{"a state Flink lacks", `{"jid":"` + id + `","name":"n","state":"` + strings.Repeat("X", 1000) + `"}`, `in state "` + strings.Repeat("X", 64) + `"..., not one of Flink's job states`, ""},
		{"a long name", `{"jid":"` + id + `","name":"` + long + `","state":"FAILED"}`, "", strings.Repeat("é", (flinkrest.MaxJobNameBytes-3)/2) + "..."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.URL.Path == "/jobs/overview" {
					_, _ = w.Write([]byte(`{"jobs":[` + tc.job + `]}`))
					return
				}
				_, _ = w.Write([]byte(tc.job))
			}))
			t.Cleanup(srv.Close)
			c, err := flinkrest.New(flinkrest.Endpoint{BaseURL: srv.URL + "/"})
			if err != nil {
				t.Fatal(err)
			}
			jobs, listErr := c.ListJobs(context.Background())
			job, detailsErr := c.JobDetails(context.Background(), id)
			for op, err := range map[string]error{"ListJobs": listErr, "JobDetails": detailsErr} {
				if tc.wantErr == "" && err != nil || tc.wantErr != "" && (flinkrest.KindOf(err) != flinkrest.KindBadResponse || !strings.Contains(err.Error(), tc.wantErr)) {
					t.Fatalf("%s: %v, want %q", op, err, tc.wantErr)
				}
			}
			if tc.wantErr == "" && (len(jobs) != 1 || jobs[0].Name != tc.wantName || job.Name != tc.wantName || len(job.Name) > flinkrest.MaxJobNameBytes) {
				t.Fatalf("names %d and %d bytes, want %d", len(jobs[0].Name), len(job.Name), len(tc.wantName))
			}
		})
	}
}

// TestVersionAnswersCut: the Flink version and revision of the
// configuration answer are cut at MaxVersionBytes.
func TestVersionAnswersCut(t *testing.T) {
	long := strings.Repeat("9", 10*flinkrest.MaxVersionBytes)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"flink-version":"` + long + `","flink-revision":"abc123 @ 2025-01-01"}`))
	}))
	t.Cleanup(srv.Close)
	c, err := flinkrest.New(flinkrest.Endpoint{BaseURL: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.Config(context.Background())
	if err != nil || len(cfg.FlinkVersion) != flinkrest.MaxVersionBytes || !strings.HasSuffix(cfg.FlinkVersion, "...") || cfg.FlinkRevision != "abc123 @ 2025-01-01" {
		t.Fatalf("version of %d bytes, revision %q, %v", len(cfg.FlinkVersion), cfg.FlinkRevision, err)
	}
}

// TestTriggerAndPathAnswersChecked: a trigger id that is not Flink's, or a
// savepoint or checkpoint path beyond MaxPathBytes, fails the call; a path
// is never cut (a job would restore from the cut one).
func TestTriggerAndPathAnswersChecked(t *testing.T) {
	const job, trigger = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
	longPath := "s3://bucket/" + strings.Repeat("p", flinkrest.MaxPathBytes)
	cases := []struct {
		name, triggerAnswer, path, wantErr string
	}{
		{"as Flink answers", trigger, "s3://bucket/savepoint-0123", ""},
		{"a trigger id with a path in it", "../../jars", "s3://bucket/sp", `trigger id that is not Flink's: "../../jars"`},
		{"a path too long", trigger, longPath, "JobManager answered a path of " + strconv.Itoa(len(longPath)) + " bytes, over 4096"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				switch {
				case r.Method == http.MethodPost:
					w.WriteHeader(http.StatusAccepted)
					_, _ = w.Write([]byte(`{"request-id":"` + tc.triggerAnswer + `"}`))
				case strings.HasSuffix(r.URL.Path, "/checkpoints"):
					_, _ = w.Write([]byte(`{"latest":{"savepoint":{"external_path":"` + tc.path + `"}}}`))
				default:
					_, _ = w.Write([]byte(`{"status":{"id":"COMPLETED"},"operation":{"location":"` + tc.path + `"}}`))
				}
			}))
			t.Cleanup(srv.Close)
			c, err := flinkrest.New(flinkrest.Endpoint{BaseURL: srv.URL + "/"})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			id, triggerErr := c.TriggerSavepoint(ctx, job, flinkrest.SavepointRequest{TargetDirectory: "s3://bucket"})
			op, statusErr := c.SavepointStatus(ctx, job, trigger)
			stats, statsErr := c.CheckpointStatistics(ctx, job)
			switch {
			case tc.wantErr == "":
				if triggerErr != nil || statusErr != nil || statsErr != nil || id != trigger || op.Location != tc.path || stats.Latest.Savepoint.ExternalPath != tc.path {
					t.Fatalf("%q %v; %+v %v; %v", id, triggerErr, op, statusErr, statsErr)
				}
			case strings.Contains(tc.wantErr, "trigger"):
				if flinkrest.KindOf(triggerErr) != flinkrest.KindBadResponse || !strings.Contains(triggerErr.Error(), tc.wantErr) {
					t.Fatalf("trigger: %v, want %q", triggerErr, tc.wantErr)
				}
			default:
				for _, err := range []error{statusErr, statsErr} {
					if flinkrest.KindOf(err) != flinkrest.KindBadResponse || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("%v, want %q", err, tc.wantErr)
					}
				}
			}
		})
	}
}

// TestSubmissionAnswersChecked: a jar id beyond MaxJarIDBytes and a job id
// that is not Flink's fail the upload and the run.
func TestSubmissionAnswersChecked(t *testing.T) {
	longJar := strings.Repeat("j", flinkrest.MaxJarIDBytes) + ".jar"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/upload") {
			_, _ = w.Write([]byte(`{"filename":"/tmp/flink-web/upload/` + longJar + `","status":"success"}`))
			return
		}
		_, _ = w.Write([]byte(`{"jobid":"../jobs/x"}`))
	}))
	t.Cleanup(srv.Close)
	c, err := flinkrest.New(flinkrest.Endpoint{BaseURL: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.UploadJar(ctx, "job.jar", strings.NewReader("PK")); flinkrest.KindOf(err) != flinkrest.KindBadResponse || !strings.Contains(err.Error(), "jar id of 1028 bytes, over 1024") {
		t.Errorf("upload: %v", err)
	}
	if _, err := c.RunJar(ctx, "abc_job.jar", api.JarRunRequestBody{}); flinkrest.KindOf(err) != flinkrest.KindBadResponse || !strings.Contains(err.Error(), `not a Flink job id: "../jobs/x"`) {
		t.Errorf("run: %v", err)
	}
}
