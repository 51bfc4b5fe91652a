// Package jarfetch fetches the jars FlinkSessionJobs name (job.jarURI) onto
// the hub, which uploads them to session clusters. A jarURI is tenant text
// and the hub runs inside the fleet's most trusted network, so every fetch
// is bounded and fenced:
//
//   - only http and https, with no proxy from the environment;
//   - every connection, redirects included, goes to a public address: a
//     name that resolves to a loopback, private, link-local (cloud metadata)
//     or otherwise special address is refused when the hub dials it, so DNS
//     rebinding does not get around it (Options.AllowPrivateNetworks lifts
//     this for artifact servers inside the cluster);
//   - at most five redirects, each to http or https;
//   - a fetch's own HTTP headers (credentials of a private artifact
//     repository) go to the jarURI's origin (scheme, host and port) only:
//     a redirect to another origin gets none of them;
//   - a deadline for the whole fetch and a size limit;
//   - fetched jars are kept by content (SHA-256) and found again by URL
//     and the digest of the fetch's headers (a jar fetched with
//     credentials is never the answer to a fetch without the same ones),
//     up to a cache size, the least recently used dropped first;
//   - at most Options.Concurrency downloads at once, so the cache folder
//     holds at most CacheSize + (Concurrency+1) × MaxSize bytes (the
//     chart sizes its volume so);
//   - the cache folder may be shared by several hub processes on one
//     machine (the sandbox's replicas): each Fetcher works in a folder of
//     its own inside it, locked (flock) while it lives, so its size
//     accounting and its files are its own; New removes the folders whose
//     lock nobody holds and the jars and partial downloads older versions
//     left in the cache folder itself (a volume outlives a container
//     restart): the cache index lives in memory and could never find or
//     drop them.
package jarfetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/flink-hub/flink-hub/internal/problem"
)

// Jar is a fetched jar on the hub's disk.
type Jar struct {
	// Path is the jar's file; it stays until the cache drops it.
	Path string
	// SHA256 is the hex digest of its content.
	SHA256 string
	// Size is its length in bytes.
	Size int64
}

// Kind says what went wrong with a fetch.
type Kind string

// The kinds of fetch errors.
const (
	// KindUnsupported: the URI's scheme is not http or https.
	KindUnsupported Kind = "Unsupported"
	// KindForbidden: the URI (or a redirect) leads to an address the hub
	// may not reach.
	KindForbidden Kind = "Forbidden"
	// KindNotFound: the server has no jar there (404, 410).
	KindNotFound Kind = "NotFound"
	// KindTooLarge: the jar is larger than the limit.
	KindTooLarge Kind = "TooLarge"
	// KindTimeout: the fetch did not finish within its deadline.
	KindTimeout Kind = "Timeout"
	// KindFailed: anything else (a refused connection, a server error).
	KindFailed Kind = "Failed"
)

// Error is a failed fetch, in words for status.error; it never contains
// the URI's user information nor a value of the fetch's headers.
type Error struct {
	// Kind says what went wrong.
	Kind Kind
	// URI is the jar's URI without user information.
	URI string
	// Reason says it in words.
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("fetch jar %s: %s", e.URI, e.Reason) }

// Fetcher fetches and caches jars; it is safe for concurrent use.
type Fetcher struct {
	opts   Options
	client *http.Client
	// folder holds this Fetcher's jars and partial downloads.
	folder *folder

	// downloads holds a token per download running, at most
	// Options.Concurrency.
	downloads chan struct{}

	mu sync.Mutex
	// byRequest finds a jar by what fetched it (requestKey) -> digest.
	byRequest map[string]string
	entries   map[string]*entry // digest -> entry
	total     int64
	clock     uint64
}

// entry is one cached jar.
type entry struct {
	jar      Jar
	lastUsed uint64
}

// New returns a Fetcher for opts (see Options.Validate); it creates the
// cache folder and a locked folder of its own in it, and removes what
// Fetchers that are gone left there (see claimFolder). The lock lasts
// until Close or the end of the process.
func New(opts Options) (*Fetcher, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	own, err := claimFolder(opts.CacheDir)
	if err != nil {
		return nil, fmt.Errorf("jar cache: %w", err)
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		return checkAddress(address, opts.AllowPrivateNetworks)
	}}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    30 * time.Second,
		ResponseHeaderTimeout:  opts.Timeout,
		MaxIdleConns:           10,
		IdleConnTimeout:        time.Minute,
		MaxResponseHeaderBytes: maxHeaderBytes,
	}
	client := &http.Client{Transport: transport, CheckRedirect: checkRedirect}
	return &Fetcher{opts: opts, client: client, folder: own, downloads: make(chan struct{}, opts.Concurrency),
		byRequest: map[string]string{}, entries: map[string]*entry{}}, nil
}

// Close removes the Fetcher's folder with its jars and releases its lock;
// fetches after it fail. A process that ends without it leaves the folder
// to the next Fetcher's New, which removes it.
func (f *Fetcher) Close() error {
	return f.folder.close()
}

// maxHeaderBytes bounds the answer's status line and headers: nothing a
// jar download needs is larger.
const maxHeaderBytes = 64 << 10

// statusText is an HTTP status as errors show it: its code and Go's text
// for it, never the server's reason phrase (of any length).
func statusText(code int) string {
	return strings.TrimSpace(fmt.Sprintf("%d %s", code, http.StatusText(code)))
}

// checkRedirect allows at most five redirects, each to http or https. A
// redirect to another origin than the first request's gets none of the
// fetch's own headers (the first request's: the only ones it has), which
// http.Client copies to every redirect; no redirect gets the Referer
// http.Client adds, which would carry the previous URL's query (a signed
// URL's signature) to wherever a server redirects.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return &Error{Kind: KindForbidden, Reason: "more than 5 redirects"}
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return &Error{Kind: KindForbidden, Reason: fmt.Sprintf("redirected to a %s URL; only http and https are followed", req.URL.Scheme)}
	}
	req.Header.Del("Referer")
	if Origin(req.URL) != Origin(via[0].URL) {
		for key := range via[0].Header {
			// As http.Client copied it: Del would canonicalize the key
			// and miss one that is not canonical.
			delete(req.Header, key)
		}
	}
	return nil
}

// Origin is u's scheme, host (lower case) and port, the port the scheme's
// default when u names none: "https://repo.example.com:443".
func Origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return u.Scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// neverFetched are the special-purpose IPv4 and IPv6 blocks (IANA's
// registries) no artifact server lives in: this network, shared address
// space (carrier NAT; a cloud metadata address lives there), link-local
// (cloud metadata), IETF protocol assignments, documentation, benchmarking,
// multicast, reserved and broadcast, unspecified, discard, ORCHID,
// documentation and IPv6 link-local and multicast.
var neverFetched = prefixes("0.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "192.0.0.0/24", "192.0.2.0/24",
	"198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
	"::/128", "100::/64", "2001::/23", "2001:db8::/32", "3fff::/20", "fe80::/10", "ff00::/8")

// private are the loopback and private blocks, fetched from only with
// --jar-fetch-allow-private-networks.
var private = prefixes("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7", "fec0::/10")

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// nat64 and sixToFour are the IPv6 blocks that carry an IPv4 address.
var (
	nat64     = prefixes("64:ff9b::/96", "64:ff9b:1::/48")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// unwrap is the IPv4 address an IPv6 one carries to (IPv4-mapped,
// NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16), else ip.
func unwrap(ip netip.Addr) netip.Addr {
	b := ip.As16()
	switch {
	case ip.Is4In6():
		return ip.Unmap()
	case nat64[0].Contains(ip), nat64[1].Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16]))
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6]))
	}
	return ip
}

// checkAddress refuses to dial a special address, and a loopback or
// private one unless allowPrivate; IPv6 addresses that carry an IPv4 one
// are judged by it.
func checkAddress(address string, allowPrivate bool) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("not an IP address: %s", host)
	}
	ip = unwrap(ip.WithZone(""))
	in := func(ps []netip.Prefix) bool {
		return slices.ContainsFunc(ps, func(p netip.Prefix) bool { return p.Contains(ip) })
	}
	if in(neverFetched) {
		return &Error{Kind: KindForbidden, Reason: fmt.Sprintf("address %s is never fetched from", host)}
	}
	if !allowPrivate && in(private) {
		return &Error{Kind: KindForbidden, Reason: fmt.Sprintf("address %s is on a private network; the hub fetches jars only from public addresses unless it runs with --jar-fetch-allow-private-networks", ip)}
	}
	return nil
}

// Fetch returns the jar at uri, fetched with header (nil for none), from
// the cache when it was fetched before with the same header; a download
// waits while Options.Concurrency others run. The header's values are
// credentials: they go to uri's origin only (checkRedirect) and no error
// shows them.
func (f *Fetcher) Fetch(ctx context.Context, uri string, header http.Header) (Jar, error) {
	u, err := url.Parse(uri)
	shown := problem.RedactURI(uri)
	if err != nil {
		return Jar{}, &Error{Kind: KindUnsupported, URI: shown, Reason: "not a URI"}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Jar{}, &Error{Kind: KindUnsupported, URI: shown, Reason: fmt.Sprintf("the hub fetches only http and https jars, not %q", u.Scheme)}
	}
	key := requestKey(uri, header)
	if jar, ok := f.cached(key); ok {
		return jar, nil
	}
	select {
	case f.downloads <- struct{}{}:
		defer func() { <-f.downloads }()
	case <-ctx.Done():
		return Jar{}, &Error{Kind: KindTimeout, URI: shown, Reason: "gave up waiting for other jar fetches to finish (--jar-fetch-concurrency)"}
	}
	// Another caller may have fetched it while this one waited.
	if jar, ok := f.cached(key); ok {
		return jar, nil
	}
	jar, err := f.download(ctx, uri, header, shown)
	if err != nil {
		return Jar{}, err
	}
	return f.keep(key, jar), nil
}

// requestKey is what the cache finds a jar by: uri and, when there is a
// header, the SHA-256 of its keys and values, sorted. The digest is kept
// in memory only and never shown.
func requestKey(uri string, header http.Header) string {
	if len(header) == 0 {
		return uri
	}
	h := sha256.New()
	for _, key := range slices.Sorted(maps.Keys(header)) {
		for _, v := range header[key] {
			fmt.Fprintf(h, "%d:%s%d:%s", len(key), key, len(v), v)
		}
	}
	return uri + "\x00" + hex.EncodeToString(h.Sum(nil))
}

// cached returns the jar fetched before by the request key (requestKey),
// if the cache has it and its file is still there: a file removed behind
// the cache's back (a temporary-file cleaner) is forgotten and fetched
// again, not reported missing for good.
func (f *Fetcher) cached(key string) (Jar, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	digest := f.byRequest[key]
	e, ok := f.entries[digest]
	if !ok {
		return Jar{}, false
	}
	if _, err := os.Stat(e.jar.Path); errors.Is(err, os.ErrNotExist) {
		f.total -= e.jar.Size
		delete(f.entries, digest)
		for k, d := range f.byRequest {
			if d == digest {
				delete(f.byRequest, k)
			}
		}
		return Jar{}, false
	}
	f.clock++
	e.lastUsed = f.clock
	return e.jar, true
}

// download fetches uri with header into a new file of the cache folder.
func (f *Fetcher) download(ctx context.Context, uri string, header http.Header, shown string) (Jar, error) {
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return Jar{}, &Error{Kind: KindUnsupported, URI: shown, Reason: err.Error()}
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return Jar{}, classify(ctx, shown, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return Jar{}, &Error{Kind: KindNotFound, URI: shown, Reason: fmt.Sprintf("the server has no jar there (%s)", statusText(resp.StatusCode))}
	case resp.StatusCode/100 != 2:
		return Jar{}, &Error{Kind: KindFailed, URI: shown, Reason: fmt.Sprintf("the server answered %s", statusText(resp.StatusCode))}
	case resp.ContentLength > f.opts.MaxSize:
		return Jar{}, tooLarge(shown, f.opts.MaxSize)
	}
	return f.save(ctx, resp.Body, shown)
}

// save copies body, at most MaxSize bytes, into the Fetcher's folder under
// its digest.
func (f *Fetcher) save(ctx context.Context, body io.Reader, shown string) (Jar, error) {
	tmp, err := os.CreateTemp(f.folder.path, tempPattern)
	if err != nil {
		return Jar{}, &Error{Kind: KindFailed, URI: shown, Reason: fmt.Sprintf("jar cache: %v", err)}
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	defer tmp.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(body, f.opts.MaxSize+1))
	switch {
	case err != nil:
		return Jar{}, classify(ctx, shown, err)
	case n > f.opts.MaxSize:
		return Jar{}, tooLarge(shown, f.opts.MaxSize)
	}
	if err := tmp.Close(); err != nil {
		return Jar{}, &Error{Kind: KindFailed, URI: shown, Reason: fmt.Sprintf("jar cache: %v", err)}
	}
	digest := hex.EncodeToString(h.Sum(nil))
	path := filepath.Join(f.folder.path, digest+".jar")
	if err := os.Rename(tmp.Name(), path); err != nil {
		return Jar{}, &Error{Kind: KindFailed, URI: shown, Reason: fmt.Sprintf("jar cache: %v", err)}
	}
	return Jar{Path: path, SHA256: digest, Size: n}, nil
}

func tooLarge(shown string, limit int64) error {
	size := fmt.Sprintf("%d bytes", limit)
	if limit >= 1<<20 {
		size = fmt.Sprintf("%d MiB", limit>>20)
	}
	return &Error{Kind: KindTooLarge, URI: shown, Reason: fmt.Sprintf("the jar is larger than the hub's limit of %s (--jar-fetch-max-size)", size)}
}

// classify turns a transport error into an Error.
func classify(ctx context.Context, shown string, err error) error {
	var fe *Error
	if errors.As(err, &fe) {
		return &Error{Kind: fe.Kind, URI: shown, Reason: fe.Reason}
	}
	// The fetch's deadline and the transport's wait for the answer's
	// headers are the same: whichever fires first, it is a timeout.
	var ne net.Error
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &Error{Kind: KindTimeout, URI: shown, Reason: "the server did not send the jar in time"}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &Error{Kind: KindFailed, URI: shown, Reason: err.Error()}
}

// keep records jar as fetched by the request key (requestKey) and drops
// the least recently used jars while the cache is over its size; it
// returns the cached jar.
func (f *Fetcher) keep(key string, jar Jar) Jar {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock++
	if e, ok := f.entries[jar.SHA256]; ok {
		e.lastUsed = f.clock
	} else {
		f.entries[jar.SHA256] = &entry{jar: jar, lastUsed: f.clock}
		f.total += jar.Size
	}
	f.byRequest[key] = jar.SHA256
	for f.total > f.opts.CacheSize && len(f.entries) > 1 {
		f.evictOldest(jar.SHA256)
	}
	return jar
}

// evictOldest drops the least recently used jar other than keep.
func (f *Fetcher) evictOldest(keep string) {
	oldest := ""
	for digest, e := range f.entries {
		if digest != keep && (oldest == "" || e.lastUsed < f.entries[oldest].lastUsed) {
			oldest = digest
		}
	}
	e := f.entries[oldest]
	_ = os.Remove(e.jar.Path)
	f.total -= e.jar.Size
	delete(f.entries, oldest)
	for k, digest := range f.byRequest {
		if digest == oldest {
			delete(f.byRequest, k)
		}
	}
}
