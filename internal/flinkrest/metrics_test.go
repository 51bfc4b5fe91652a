package flinkrest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestCallsAreMeteredByRoute(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	route := "GET /jobs/overview"
	before := sampleCount(t, route, "503")
	req, _ := http.NewRequestWithContext(withOperation(context.Background(), "getJobsOverview"), http.MethodGet, srv.URL+"/jobs/overview", nil)
	resp, err := instrument(http.DefaultTransport).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if after := sampleCount(t, route, "503"); after != before+1 {
		t.Fatalf("calls of %s with 503: %v -> %v", route, before, after)
	}
}

// sampleCount reads the number of observations of one series.
func sampleCount(t *testing.T, route, code string) uint64 {
	t.Helper()
	var m dto.Metric
	if err := requestDuration.WithLabelValues(route, code).(prometheus.Histogram).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}
