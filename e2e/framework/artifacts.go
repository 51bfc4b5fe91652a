package framework

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Artifacts is an HTTP artifact server for tests: it serves jars by path
// and counts the requests of each.
type Artifacts struct {
	*httptest.Server

	mu       sync.Mutex
	files    map[string][]byte
	requests map[string]int
}

// NewArtifacts starts an artifact server, closed when t ends.
func NewArtifacts(t testing.TB) *Artifacts {
	a := StartArtifacts()
	t.Cleanup(a.Close)
	return a
}

// StartArtifacts starts an artifact server; Close stops it.
func StartArtifacts() *Artifacts {
	a := &Artifacts{files: map[string][]byte{}, requests: map[string]int{}}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	return a
}

// Put serves content at path ("/jobs/job.jar") and returns its URL.
func (a *Artifacts) Put(path string, content []byte) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.files[path] = content
	return a.URL + path
}

// Requests is how often path was asked for.
func (a *Artifacts) Requests(path string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests[path]
}

func (a *Artifacts) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.requests[r.URL.Path]++
	content, ok := a.files[r.URL.Path]
	a.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/java-archive")
	_, _ = w.Write(content)
}
