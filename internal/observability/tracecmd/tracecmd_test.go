package tracecmd

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBadKeysAreRefusedBeforeAnyQuery(t *testing.T) {
	queried := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { queried = true }))
	defer srv.Close()
	for _, key := range []string{"basic", "member-1/basic", "a/b/c/d", "/ns/name", "c//name"} {
		cmd := NewCommand()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs([]string{key, "--jaeger-url", srv.URL})
		err := cmd.Execute()
		if err == nil || !strings.Contains(err.Error(), "is not <cluster>/<namespace>/<name>") {
			t.Errorf("key %q: got %v", key, err)
		}
	}
	if queried {
		t.Error("a malformed key reached Jaeger")
	}
}

func TestJaegerErrorsAreReported(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
	}))
	defer srv.Close()
	cmd := NewCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"member-1/default/basic", "--jaeger-url", srv.URL})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("want the Jaeger status in the error, got %v", err)
	}
}
