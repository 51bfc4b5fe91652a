package framework

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestFleetGetReusesItsConnections: polling the fleet API does not leave
// a connection open per call (the fleet API closes idle ones only after
// 90 s and serves at most 512: a test polling a few times a second once
// filled them, and every later request got EOF).
func TestFleetGetReusesItsConnections(t *testing.T) {
	var mu sync.Mutex
	open, most := 0, 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"items":[]}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch s {
		case http.StateNew:
			open++
			most = max(most, open)
		case http.StateClosed, http.StateHijacked:
			open--
		}
	}
	srv.StartTLS()
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "https://")
	for range 50 {
		var into map[string]any
		if err := FleetGet(context.Background(), addr, "token", "/fleet/v1/deployments", &into); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if most > 2 {
		t.Errorf("50 sequential calls held %d connections open at once, want them reused", most)
	}
}
