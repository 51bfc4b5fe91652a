package flinkrest_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
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
