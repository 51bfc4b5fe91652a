package flinkrest_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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

// slowUploadServer answers jar uploads after reading the body in 16 KiB
// steps every step, stopping for good (until the test ends) after stallAt
// bytes when stallAt > 0.
func slowUploadServer(t *testing.T, step time.Duration, stallAt int) string {
	t.Helper()
	testEnds := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf, read := make([]byte, 16<<10), 0
		for {
			if stallAt > 0 && read >= stallAt {
				<-testEnds
				return
			}
			n, err := io.ReadFull(r.Body, buf)
			read += n
			if err != nil {
				break
			}
			time.Sleep(step) // the simulated link's pace
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"filename":"/tmp/flink-web/upload/abc_job.jar","status":"success"}`)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(testEnds) })
	return srv.URL
}

// TestUploadBoundsAndStalls: an upload that keeps moving runs past the
// client's timeout within its budget; one that stops moving fails after
// the client's timeout plus what the buffers take at the rate, long
// before its budget, saying it stalled; one
// slower than the rate its budget allows fails at the budget. Each
// failure names the jar's size, the time it got and the setting.
func TestUploadBoundsAndStalls(t *testing.T) {
	cases := []struct {
		name    string
		size    int
		step    time.Duration
		stallAt int
		rate    int64
		want    []string // in the error; none: the upload succeeds
		within  time.Duration
	}{
		{"moving, past the timeout", 256 << 10, 40 * time.Millisecond, 0, 64 << 10, nil, 5 * time.Second},
		// Larger than the connection's buffers, which take a jar's last
		// megabytes at once.
		// 16 MiB/s: nothing moving for 300ms + 4 MiB at that rate is a
		// stall, well before the budget of 300ms + 2s.
		{"stalled after 64 KiB", 32 << 20, 0, 64 << 10, 16 << 20, []string{"stalled", "32.0 MiB", "nothing moved for 550ms", "--flink-rest-timeout", "sent in"}, 2 * time.Second},
		{"slower than the budget allows", 256 << 10, 100 * time.Millisecond, 0, 1 << 20, []string{"256.0 KiB", "not done within", "--jar-upload-min-rate 1.0 MiB/s", "sent"}, 3 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := flinkrest.New(flinkrest.Endpoint{BaseURL: slowUploadServer(t, tc.step, tc.stallAt)},
				flinkrest.WithTimeout(300*time.Millisecond), flinkrest.WithUploadRate(tc.rate))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			id, err := c.UploadJar(context.Background(), "job.jar", bytes.NewReader(make([]byte, tc.size)))
			took := time.Since(start)
			if took > tc.within {
				t.Errorf("upload took %s, want at most %s", took, tc.within)
			}
			if tc.want == nil {
				if err != nil || id != "abc_job.jar" {
					t.Fatalf("upload = %q, %v; want abc_job.jar", id, err)
				}
				return
			}
			if !flinkrest.IsTimeout(err) {
				t.Fatalf("upload = %q, %v; want a timeout", id, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
