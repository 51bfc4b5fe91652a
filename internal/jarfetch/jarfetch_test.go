package jarfetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// artifacts is an HTTP artifact server: /jars/<name> serves content[name],
// counting requests; /slow never answers in time; /redirect/<to> redirects.
type artifacts struct {
	*httptest.Server
	content  map[string][]byte
	requests atomic.Int32
}

func newArtifacts(t *testing.T, content map[string][]byte) *artifacts {
	a := &artifacts{content: content}
	mux := http.NewServeMux()
	mux.HandleFunc("/jars/{name}", func(w http.ResponseWriter, r *http.Request) {
		a.requests.Add(1)
		body, ok := a.content[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	})
	mux.HandleFunc("/chunked/{name}", func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length: the size shows only while reading.
		for _, b := range a.content[r.PathValue("name")] {
			_, _ = w.Write([]byte{b})
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	a.Server = httptest.NewServer(mux)
	t.Cleanup(a.Close)
	return a
}

func testOptions(t *testing.T) Options {
	o := DefaultOptions()
	o.CacheDir = t.TempDir()
	o.AllowPrivateNetworks = true // httptest listens on loopback
	return o
}

func fetcher(t *testing.T, o Options) *Fetcher {
	t.Helper()
	f, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestFetchCachesByURLAndContent(t *testing.T) {
	job := []byte("PK\x03\x04 a job jar")
	srv := newArtifacts(t, map[string][]byte{"job.jar": job, "same.jar": job})
	f := fetcher(t, testOptions(t))
	ctx := context.Background()

	jar, err := f.Fetch(ctx, srv.URL+"/jars/job.jar", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(jar.Path)
	if err != nil || !bytes.Equal(got, job) || jar.SHA256 != digest(job) || jar.Size != int64(len(job)) {
		t.Fatalf("jar %+v holds %q (%v)", jar, got, err)
	}
	again, err := f.Fetch(ctx, srv.URL+"/jars/job.jar", nil)
	if err != nil || again != jar || srv.requests.Load() != 1 {
		t.Fatalf("second fetch: %+v %v after %d requests; want the cached jar, one request", again, err, srv.requests.Load())
	}
	// Another URL with the same content shares the file.
	same, err := f.Fetch(ctx, srv.URL+"/jars/same.jar", nil)
	if err != nil || same.Path != jar.Path {
		t.Fatalf("same content at another URL: %+v %v", same, err)
	}
}

// TestRemovedFileIsFetchedAgain: a cached jar whose file went (a
// temporary-file cleaner, someone clearing the folder by hand) is fetched
// again, not reported missing for every later run.
func TestRemovedFileIsFetchedAgain(t *testing.T) {
	job := []byte("PK\x03\x04 a job jar")
	srv := newArtifacts(t, map[string][]byte{"job.jar": job})
	f := fetcher(t, testOptions(t))
	ctx := context.Background()
	jar, err := f.Fetch(ctx, srv.URL+"/jars/job.jar", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(jar.Path); err != nil {
		t.Fatal(err)
	}
	again, err := f.Fetch(ctx, srv.URL+"/jars/job.jar", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(again.Path); err != nil || !bytes.Equal(got, job) || srv.requests.Load() != 2 {
		t.Fatalf("after the file went: %q (%v), %d requests; want the jar fetched again", got, err, srv.requests.Load())
	}
}

func TestCacheDropsTheLeastRecentlyUsed(t *testing.T) {
	a, b, c := bytes.Repeat([]byte("a"), 100), bytes.Repeat([]byte("b"), 100), bytes.Repeat([]byte("c"), 100)
	srv := newArtifacts(t, map[string][]byte{"a": a, "b": b, "c": c})
	o := testOptions(t)
	o.CacheSize = 250
	f := fetcher(t, o)
	ctx := context.Background()
	fetch := func(name string) Jar {
		t.Helper()
		jar, err := f.Fetch(ctx, srv.URL+"/jars/"+name, nil)
		if err != nil {
			t.Fatal(err)
		}
		return jar
	}
	ja := fetch("a")
	fetch("b")
	fetch("a") // a is now more recent than b
	fetch("c") // over 250 bytes: b goes
	if _, err := os.Stat(ja.Path); err != nil {
		t.Errorf("a, used recently, was dropped: %v", err)
	}
	before := srv.requests.Load()
	fetch("b")
	if srv.requests.Load() != before+1 {
		t.Error("b was still cached though the cache was full")
	}
}

func TestFetchRefusals(t *testing.T) {
	srv := newArtifacts(t, map[string][]byte{"big.jar": bytes.Repeat([]byte("x"), 2048)})
	cases := []struct {
		name string
		uri  string
		opts func(*Options)
		kind Kind
		says string
	}{
		{"s3 is not fetched", "s3://bucket/job.jar", nil, KindUnsupported, `not "s3"`},
		{"local is not fetched", "local:///opt/flink/usrlib/job.jar", nil, KindUnsupported, `not "local"`},
		{"missing jar", srv.URL + "/jars/none.jar", nil, KindNotFound, "404"},
		{"over the limit by Content-Length", srv.URL + "/jars/big.jar", func(o *Options) { o.MaxSize = 1024 }, KindTooLarge, "limit of 1024 bytes"},
		{"over the limit while reading", srv.URL + "/chunked/big.jar", func(o *Options) { o.MaxSize = 1024 }, KindTooLarge, "--jar-fetch-max-size"},
		{"slow server", srv.URL + "/slow", func(o *Options) { o.Timeout = 300 * time.Millisecond }, KindTimeout, "in time"},
		{"redirect to a file", srv.URL + "/redirect?to=file:///etc/passwd", nil, KindForbidden, "only http and https"},
		{"loopback without the private-network flag", srv.URL + "/jars/big.jar", func(o *Options) { o.AllowPrivateNetworks = false }, KindForbidden, "private network"},
		{"redirect to the metadata address", srv.URL + "/redirect?to=http://169.254.169.254/latest/meta-data", nil, KindForbidden, "never fetched from"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(t)
			if tc.opts != nil {
				tc.opts(&o)
			}
			_, err := fetcher(t, o).Fetch(context.Background(), tc.uri, nil)
			var fe *Error
			if !errors.As(err, &fe) || fe.Kind != tc.kind || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Fetch(%s) = %v; want a %s error saying %q", tc.uri, err, tc.kind, tc.says)
			}
		})
	}
}

func TestErrorsHideUserInformation(t *testing.T) {
	srv := newArtifacts(t, nil)
	uri := strings.Replace(srv.URL, "http://", "http://deployer:s3cret@", 1) + "/jars/none.jar"
	_, err := fetcher(t, testOptions(t)).Fetch(context.Background(), uri, nil)
	if err == nil || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "deployer") {
		t.Fatalf("error %v shows the URI's credentials", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	o := Options{}
	err := o.Validate()
	for _, flag := range []string{"--jar-fetch-max-size", "--jar-fetch-timeout", "--jar-cache-dir", "--jar-cache-size", "--jar-fetch-concurrency"} {
		if err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("zero options: %v does not name %s", err, flag)
		}
	}
}

// rawServer answers every connection with answer (an HTTP response,
// written as is) and closes it.
func rawServer(t *testing.T, answer string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = c.Read(make([]byte, 4096))
				_, _ = c.Write([]byte(answer))
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestLongStatusLinesAreNotCopied: a server's reason phrase, however long,
// never reaches the error (which becomes status.error, a condition and an
// event): the status shows as its code and Go's text for it, and a status
// line beyond the header bound fails the fetch briefly.
func TestLongStatusLinesAreNotCopied(t *testing.T) {
	for _, tc := range []struct {
		name, reason, says string
	}{
		{"10 KiB reason phrase", strings.Repeat("A", 10<<10), "the server answered 500 Internal Server Error"},
		{"5 MiB reason phrase", strings.Repeat("A", 5<<20), "exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := rawServer(t, "HTTP/1.1 500 "+tc.reason+"\r\nContent-Length: 0\r\n\r\n")
			_, err := fetcher(t, testOptions(t)).Fetch(context.Background(), url+"/job.jar", nil)
			if err == nil || len(err.Error()) > 512 || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error of %d bytes, want at most 512 saying %q: %.300v", len(fmt.Sprint(err)), tc.says, err)
			}
		})
	}
}

// TestCheckAddress: special-purpose addresses are never dialled, private
// and loopback ones only with the private-network flag, and an IPv6
// address carrying an IPv4 one (mapped, NAT64, 6to4) is judged by it.
func TestCheckAddress(t *testing.T) {
	for _, tc := range []struct {
		address string
		never   bool // refused even with the private-network flag
		private bool // refused without it
	}{
		{"100.100.100.200:80", true, true},
		{"100.64.0.10:8080", true, true},
		{"198.18.0.1:80", true, true},
		{"0.0.0.1:80", true, true},
		{"240.0.0.1:80", true, true},
		{"255.255.255.255:80", true, true},
		{"169.254.169.254:80", true, true},
		{"[64:ff9b::a9fe:a9fe]:80", true, true},
		{"[64:ff9b::a64:1]:80", false, true},
		{"[2002:a9fe:a9fe::1]:80", true, true},
		{"[2002:c0a8:101::1]:80", false, true},
		{"[::ffff:127.0.0.1]:80", false, true},
		{"[::ffff:169.254.169.254]:80", true, true},
		{"[fe80::1%eth0]:80", true, true},
		{"[ff02::1]:80", true, true},
		{"127.0.0.1:80", false, true},
		{"10.1.2.3:80", false, true},
		{"[fd00::1]:80", false, true},
		{"93.184.215.14:443", false, false},
		{"[2606:4700::1111]:443", false, false},
		{"[64:ff9b::5db8:d70e]:443", false, false},
	} {
		for _, allow := range []bool{false, true} {
			err := checkAddress(tc.address, allow)
			want := tc.never || (tc.private && !allow)
			var fe *Error
			if (err != nil) != want || (err != nil && (!errors.As(err, &fe) || fe.Kind != KindForbidden)) {
				t.Errorf("checkAddress(%s, allowPrivate=%v) = %v, want refused: %v", tc.address, allow, err, want)
			}
		}
	}
}

// TestDownloadsWaitForConcurrency: with Concurrency downloads running, a
// further one waits (so the folder holds at most Concurrency partial
// downloads besides the cache), gives up when its context ends, and runs
// once a download finishes.
func TestDownloadsWaitForConcurrency(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	var requests atomic.Int32
	mux.HandleFunc("/jars/{name}", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.PathValue("name") == "held.jar" {
			arrived <- struct{}{}
			<-release
		}
		_, _ = w.Write([]byte("PK " + r.PathValue("name")))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	o := testOptions(t)
	o.Concurrency = 1
	f := fetcher(t, o)

	held := make(chan error, 1)
	go func() {
		_, err := f.Fetch(context.Background(), srv.URL+"/jars/held.jar", nil)
		held <- err
	}()
	<-arrived
	// The one download slot is taken: a fetch whose context has ended
	// gives up without a request.
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.Fetch(ended, srv.URL+"/jars/other.jar", nil)
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != KindTimeout || !strings.Contains(fe.Reason, "--jar-fetch-concurrency") || requests.Load() != 1 {
		t.Errorf("fetch while the slot is taken: %v after %d requests, want a Timeout naming --jar-fetch-concurrency and no request", err, requests.Load())
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if _, err := f.Fetch(context.Background(), srv.URL+"/jars/other.jar", nil); err != nil {
		t.Errorf("fetch after the slot freed: %v", err)
	}
}
