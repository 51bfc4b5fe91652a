package jarfetch

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// secret is the credential the private artifact server wants.
const secret = "Bearer s3cr3t-artifact-token"

// privateArtifacts serves a jar at /jars/job.jar only to requests whose
// Authorization is secret (401 for none, 403 for another), counting the
// requests.
func privateArtifacts(t *testing.T) (*httptest.Server, func() int) {
	var mu sync.Mutex
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		switch r.Header.Get("Authorization") {
		case secret:
			_, _ = w.Write([]byte("PK\x03\x04 a private jar"))
		case "":
			http.Error(w, "credentials wanted", http.StatusUnauthorized)
		default:
			http.Error(w, "not yours", http.StatusForbidden)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() int { mu.Lock(); defer mu.Unlock(); return requests }
}

// TestCacheKeepsCredentialedJarsApart: a jar fetched with a header is
// found again only by a fetch with the same header. A fetch of the same
// URL without it, or with another value, asks the server itself and gets
// the server's refusal as its own error, which never shows a header's
// value.
func TestCacheKeepsCredentialedJarsApart(t *testing.T) {
	srv, requests := privateArtifacts(t)
	f := fetcher(t, testOptions(t))
	uri := srv.URL + "/jars/job.jar"
	for i, step := range []struct {
		name     string
		header   http.Header
		says     string // "" for a jar
		requests int    // the server's count after the step
	}{
		{"job A with the credential", http.Header{"Authorization": {secret}}, "", 1},
		{"job B without a header", nil, "401 Unauthorized", 2},
		{"job C with another credential", http.Header{"Authorization": {"Bearer guess"}}, "403 Forbidden", 3},
		{"job C with the credential and one more header", http.Header{"Authorization": {secret}, "X-Team": {"data"}}, "", 4},
		{"job A again, from the cache", http.Header{"Authorization": {secret}}, "", 4},
		{"job B again", nil, "401 Unauthorized", 5},
	} {
		jar, err := f.Fetch(context.Background(), uri, step.header)
		var fe *Error
		switch {
		case step.says == "" && err != nil:
			t.Errorf("step %d, %s: %v", i, step.name, err)
		case step.says != "" && (!errors.As(err, &fe) || fe.Kind != KindFailed || !strings.Contains(err.Error(), step.says)):
			t.Errorf("step %d, %s: got jar %+v, error %v; want a Failed error saying %s", i, step.name, jar, err, step.says)
		case err != nil && strings.Contains(err.Error(), "s3cr3t"):
			t.Errorf("step %d, %s: error %q shows the credential", i, step.name, err)
		}
		if got := requests(); got != step.requests {
			t.Errorf("step %d, %s: the server has seen %d requests, want %d", i, step.name, got, step.requests)
		}
	}
}

// TestHeadersStayWithTheOrigin: the fetch's headers go to the jarURI's
// scheme, host and port only. http.Client copies every header but
// Authorization and Cookie to any redirect; a redirect to another origin
// (another port of the same host included) gets none of them, one to the
// same origin gets them all, whatever the case of their keys.
func TestHeadersStayWithTheOrigin(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]http.Header{} // server -> the last request's header
	serve := func(name string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if to := r.URL.Query().Get("to"); to != "" {
				http.Redirect(w, r, to, http.StatusFound)
				return
			}
			mu.Lock()
			seen[name] = r.Header.Clone()
			mu.Unlock()
			_, _ = w.Write([]byte("PK\x03\x04 " + name))
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	origin, other := serve("origin"), serve("other")
	header := http.Header{"X-Jfrog-Art-Api": {"s3cr3t-api-key"}, "Private-Token": {"s3cr3t-private"}, "Authorization": {secret},
		"x-not-canonical": {"s3cr3t-lower-case"}}
	for _, tc := range []struct {
		name, to, server string
		gets             bool
	}{
		{"same origin", origin.URL + "/jars/moved.jar", "origin", true},
		{"another port", other.URL + "/jars/job.jar", "other", false},
		{"another host name of the same address", strings.Replace(other.URL, "127.0.0.1", "localhost", 1) + "/jars/job.jar", "other", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			clear(seen)
			mu.Unlock()
			if _, err := fetcher(t, testOptions(t)).Fetch(context.Background(), origin.URL+"/redirect?signature=s3cr3t-query&to="+tc.to, header); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			got, ok := seen[tc.server]
			if !ok {
				t.Fatalf("%s was not asked for the jar", tc.server)
			}
			if ref := got.Get("Referer"); ref != "" {
				t.Errorf("%s got a Referer, the first URL's query with it: %q", tc.server, ref)
			}
			for key, want := range header {
				if has := got.Get(key) == want[0]; has != tc.gets {
					t.Errorf("%s got %s: %v, want %v", tc.server, key, has, tc.gets)
				}
			}
		})
	}
}
