package flinkrest_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/internal/flinkrest"
)

// uploadServer answers jar uploads after reading the whole body or, when
// stall is set, not before the test ends.
func uploadServer(t *testing.T, stall bool) string {
	t.Helper()
	testEnds := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if stall {
			<-testEnds
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"filename":"/tmp/flink-web/upload/abc_job.jar","status":"success"}`)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(testEnds) }) // runs first: Close waits for handlers
	return srv.URL
}

// TestUploadHasADeadline: a jar upload is answered, and an upload the
// JobManager never answers ends in a timeout (its deadline's length,
// scaled by the jar, is TestUploadTimeoutScalesWithTheJar's).
func TestUploadHasADeadline(t *testing.T) {
	jar := bytes.Repeat([]byte("x"), 1<<20)
	for _, stall := range []bool{false, true} {
		c, err := flinkrest.New(flinkrest.Endpoint{BaseURL: uploadServer(t, stall)},
			flinkrest.WithTimeout(50*time.Millisecond), flinkrest.WithUploadRate(1<<30))
		if err != nil {
			t.Fatal(err)
		}
		id, err := c.UploadJar(context.Background(), "job.jar", bytes.NewReader(jar))
		switch {
		case !stall && (err != nil || id != "abc_job.jar"):
			t.Fatalf("upload = %q, %v; want abc_job.jar", id, err)
		case stall && !flinkrest.IsTimeout(err):
			t.Fatalf("unanswered upload = %q, %v; want a timeout", id, err)
		}
	}
}
