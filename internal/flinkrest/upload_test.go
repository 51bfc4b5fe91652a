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

// slowJobManager answers jar uploads after reading the body at about
// rate bytes a second.
func slowJobManager(t *testing.T, rate int64) string {
	t.Helper()
	const chunk = 64 << 10
	tick := time.Duration(float64(chunk) / float64(rate) * float64(time.Second))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for {
			if _, err := io.CopyN(io.Discard, r.Body, chunk); err != nil {
				break
			}
			time.Sleep(tick) // the server's throttling
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"filename":"/tmp/flink-web/upload/abc_job.jar","status":"success"}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestUploadDeadlineScalesWithTheJar: a jar upload has the client's
// timeout plus the jar's size at the slowest upload rate allowed for, its
// size read from the reader or, when it cannot say, assumed the largest.
func TestUploadDeadlineScalesWithTheJar(t *testing.T) {
	const size = 1 << 20
	url := slowJobManager(t, 4<<20) // about 250 ms for the jar
	jar := bytes.Repeat([]byte("x"), size)
	cases := []struct {
		name   string
		rate   int64 // slowest upload rate allowed for
		reader io.Reader
		ok     bool
	}{
		// 100 ms + 1 s.
		{"a jar within its scaled deadline", 1 << 20, bytes.NewReader(jar), true},
		// 100 ms + 16 ms.
		{"a jar beyond its scaled deadline", 64 << 20, bytes.NewReader(jar), false},
		// 100 ms + 256 MiB at 64 MiB/s: 4 s.
		{"a jar of unknown size gets the largest jar's deadline", 64 << 20, io.MultiReader(bytes.NewReader(jar)), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := flinkrest.New(flinkrest.Endpoint{BaseURL: url}, flinkrest.WithTimeout(100*time.Millisecond), flinkrest.WithUploadRate(tc.rate))
			if err != nil {
				t.Fatal(err)
			}
			id, err := c.UploadJar(context.Background(), "job.jar", tc.reader)
			switch {
			case tc.ok && (err != nil || id != "abc_job.jar"):
				t.Fatalf("upload = %q, %v; want it within its deadline", id, err)
			case !tc.ok && !flinkrest.IsTimeout(err):
				t.Fatalf("upload = %q, %v; want a timeout", id, err)
			}
		})
	}
}
