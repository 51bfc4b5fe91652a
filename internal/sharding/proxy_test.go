package sharding

import (
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// tcpProxy forwards connections to a target and can cut them all, to play
// a hub apiserver that becomes unreachable and comes back.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]bool
	// blackhole drops every byte both ways and holds new connections
	// open without an answer, as a network that drops packets does.
	blackhole atomic.Bool
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { _ = ln.Close(); p.setCut(true) })
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

// proxiedHub starts a proxy to the hub apiserver and returns it with a hub
// config that goes through it, its requests bounded by timeout.
func proxiedHub(t *testing.T, timeout time.Duration) (*tcpProxy, *rest.Config) {
	t.Helper()
	u, err := url.Parse(hub.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, u.Host)
	cfg := rest.CopyConfig(hub.Config)
	cfg.Host = "https://" + proxy.addr()
	cfg.Timeout = timeout
	return proxy, cfg
}

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		go func() { p.copy(up, c); _ = up.Close() }()
		go func() { p.copy(c, up); _ = c.Close() }()
	}
}

// setCut closes every open connection and refuses new ones while cut.
func (p *tcpProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			_ = c.Close()
		}
		p.conns = map[net.Conn]bool{}
	}
}

// copy forwards src to dst, dropping what it reads while blackholed.
func (p *tcpProxy) copy(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.blackhole.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
