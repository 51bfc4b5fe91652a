package memberconfig

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

func TestIsStreaming(t *testing.T) {
	cases := []struct {
		url     string
		upgrade string
		want    bool
	}{
		{"/api/v1/pods", "", false},
		{"/api/v1/pods?watch=true&resourceVersion=5", "", true},
		{"/api/v1/pods?watch=1", "", true},
		{"/api/v1/pods?watch=false", "", false},
		{"/api/v1/watch/namespaces/a/pods", "", true},
		{"/api/v1/namespaces/a/pods/p/log?follow=true", "", true},
		{"/api/v1/namespaces/a/pods/p/log", "", false},
		{"/api/v1/namespaces/a/pods/p/exec?command=sh", "SPDY/3.1", true},
		{"/api/v1/namespaces/a/services/x:8081/proxy/jobs?watch=x", "", false},
	}
	for _, tc := range cases {
		req := httptest.NewRequest(http.MethodGet, "https://member"+tc.url, nil)
		if tc.upgrade != "" {
			req.Header.Set("Upgrade", tc.upgrade)
		}
		if got := IsStreaming(req); got != tc.want {
			t.Errorf("IsStreaming(%s, upgrade %q) = %v, want %v", tc.url, tc.upgrade, got, tc.want)
		}
	}
}

// TestRequestTimeout runs requests through a config with RequestTimeout
// against servers that answer, stream, or never answer.
func TestRequestTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	release := make(chan struct{})
	mux := http.NewServeMux()
	// Answers at once.
	mux.HandleFunc("/quick", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	// Never answers (until the test ends).
	mux.HandleFunc("/hang", func(http.ResponseWriter, *http.Request) { <-release })
	// Sends its headers, then streams for three timeouts: a watch.
	mux.HandleFunc("/stream", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "first;")
		w.(http.Flusher).Flush()
		select {
		case <-time.After(3 * timeout):
		case <-release:
		}
		_, _ = io.WriteString(w, "second")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(release) // first: Close waits for the handlers

	cases := []struct {
		name  string
		path  string
		body  string // wanted body; "" when a timeout is wanted
		watch bool   // the timeout wanted is a watch's
	}{
		{"plain request answered", "/quick", "ok", false},
		{"plain request never answered", "/hang", "", false},
		{"plain request streaming past the timeout", "/stream", "", false},
		{"watch answered at once streams past the timeout", "/stream?watch=true", "first;second", false},
		{"watch never started", "/hang?watch=true", "", true},
	}
	cfg := &rest.Config{Host: srv.URL}
	RequestTimeout(cfg, timeout)
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, err := get(client, srv.URL+tc.path)
			if tc.body != "" {
				if err != nil || body != tc.body {
					t.Fatalf("body %q, error %v; want %q", body, err, tc.body)
				}
				return
			}
			var te *TimeoutError
			if !errors.As(err, &te) || te.Timeout != timeout || te.Watch != tc.watch {
				t.Fatalf("error %v (%T), want a TimeoutError of %s, watch %v", err, err, timeout, tc.watch)
			}
			if !strings.Contains(err.Error(), "member ") || !strings.Contains(err.Error(), timeout.String()) {
				t.Errorf("error %q does not name the member request timeout", err)
			}
		})
	}
}

// TestRequestTimeoutBlackhole sends a request to a listener that accepts
// connections and never answers, as a member whose apiserver blackholes
// traffic: it fails with the timeout.
func TestRequestTimeoutBlackhole(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	cfg := &rest.Config{Host: "http://" + ln.Addr().String()}
	RequestTimeout(cfg, 200*time.Millisecond)
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = get(client, cfg.Host+"/api/v1/namespaces")
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("error %v, want a TimeoutError", err)
	}
}

func TestRequestTimeoutZeroLeavesConfig(t *testing.T) {
	cfg := &rest.Config{}
	RequestTimeout(cfg, 0)
	if cfg.WrapTransport != nil || cfg.Timeout != 0 {
		t.Fatalf("config changed: %+v", cfg)
	}
}

func get(client *http.Client, url string) (string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestOwnDeadline sends a request marked WithOwnDeadline past the member
// request timeout: its own deadline bounds it instead, and a mark on a
// context without a deadline changes nothing.
func TestOwnDeadline(t *testing.T) {
	const timeout = 200 * time.Millisecond
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		select {
		case <-time.After(3 * timeout):
			_, _ = io.WriteString(w, "late")
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	cfg := &rest.Config{Host: srv.URL}
	RequestTimeout(cfg, timeout)
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	long, cancel := context.WithTimeout(context.Background(), 20*timeout)
	defer cancel()
	short, cancelShort := context.WithTimeout(context.Background(), timeout/2)
	defer cancelShort()
	cases := []struct {
		name     string
		ctx      context.Context
		want     string
		wantErr  error
		isMember bool
	}{
		{"own deadline beyond the member timeout", WithOwnDeadline(long), "late", nil, false},
		{"own deadline shorter than the answer", WithOwnDeadline(short), "", context.DeadlineExceeded, false},
		{"no deadline: the member timeout", WithOwnDeadline(context.Background()), "", nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(tc.ctx, http.MethodPost, srv.URL+"/api/v1/namespaces/n/services/s:rest/proxy/jars/upload", nil)
			resp, err := client.Do(req)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			var te *TimeoutError
			switch {
			case tc.isMember && !errors.As(err, &te):
				t.Fatalf("error %v, want the member request timeout", err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			case tc.want != "" && (err != nil || string(body) != tc.want):
				t.Fatalf("body %q, error %v; want %q", body, err, tc.want)
			}
		})
	}
}
