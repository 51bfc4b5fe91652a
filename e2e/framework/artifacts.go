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
	// header, when set, is the header every request needs.
	header [2]string
	// seen are the values of every request header received, by key.
	seen http.Header
}

// NewArtifacts starts an artifact server, closed when t ends.
func NewArtifacts(t testing.TB) *Artifacts {
	a := StartArtifacts()
	t.Cleanup(a.Close)
	return a
}

// StartArtifacts starts an artifact server; Close stops it.
func StartArtifacts() *Artifacts {
	a := &Artifacts{files: map[string][]byte{}, requests: map[string]int{}, seen: http.Header{}}
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

// RequireHeader makes the server answer only requests whose header key
// is value, as a private artifact repository does: 401 to one without
// it, 403 to one with another value.
func (a *Artifacts) RequireHeader(key, value string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.header = [2]string{key, value}
}

// Requests is how often path was asked for.
func (a *Artifacts) Requests(path string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests[path]
}

// Seen is every value of the request header key the server received.
func (a *Artifacts) Seen(key string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen.Values(key)...)
}

func (a *Artifacts) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.requests[r.URL.Path]++
	for key, values := range r.Header {
		a.seen[key] = append(a.seen[key], values...)
	}
	content, ok := a.files[r.URL.Path]
	header := a.header
	a.mu.Unlock()
	switch got := r.Header.Get(header[0]); {
	case header[0] == "" || got == header[1]:
	case got == "":
		http.Error(w, "credentials wanted", http.StatusUnauthorized)
		return
	default:
		http.Error(w, "not yours", http.StatusForbidden)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/java-archive")
	_, _ = w.Write(content)
}
