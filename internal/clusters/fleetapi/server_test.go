package fleetapi

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// startServer serves a handler that answers 200 behind WithAuth (callers
// without a token get 401 without a review) with limits, and returns its
// address.
func startServer(t *testing.T, limits serverLimits) string {
	t.Helper()
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	s, err := NewServer("127.0.0.1:0", ok, &rest.Config{Host: "https://127.0.0.1:1"}, "hub", 0)
	if err != nil {
		t.Fatal(err)
	}
	s.limits = limits
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	addrCtx, addrCancel := context.WithTimeout(ctx, 10*time.Second)
	defer addrCancel()
	addr, err := s.Addr(addrCtx)
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// dialTLS connects to the server over TLS (its certificate is self-signed).
func dialTLS(addr string) (*tls.Conn, error) {
	d := &net.Dialer{Timeout: 10 * time.Second}
	return tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
}

// send connects to the server, writes req and returns the connection,
// which the test closes; every read and write on it ends within 10 s.
func send(t *testing.T, addr, req string) *tls.Conn {
	t.Helper()
	conn, err := dialTLS(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// answer reads the status of the server's answer on conn.
func answer(t *testing.T, conn net.Conn) int {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// closedByServer waits, at most 10 s, for the server to close conn.
func closedByServer(conn net.Conn) error {
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	buf := make([]byte, 512)
	for {
		_, err := conn.Read(buf)
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return errors.New("the server still holds the connection after 10 s")
		case err != nil:
			return nil
		}
	}
}

// shortLimits are limits short enough for a test to see them act.
var shortLimits = serverLimits{readHeader: 300 * time.Millisecond, read: 500 * time.Millisecond, write: 5 * time.Second,
	idle: 500 * time.Millisecond, maxHeaderBytes: 8 << 10, maxConns: 2}

// TestServerDropsConnectionsThatHoldIt: a connection that says nothing
// after its TLS handshake, sends its headers slowly, sits idle after an
// answer or never sends the body it announced is closed by the server,
// so a client (authenticated or not) cannot hold connections without end.
func TestServerDropsConnectionsThatHoldIt(t *testing.T) {
	addr := startServer(t, shortLimits)
	for _, tc := range []struct {
		name string
		// send is written after the handshake; answered whether the
		// server answers it before closing.
		send     string
		answered bool
	}{
		{"silent after the handshake", "", false},
		{"headers never finished", "GET /fleet/v1/clusters HTTP/1.1\r\nHost: x\r\n", false},
		{"idle after an answer", "GET /fleet/v1/clusters HTTP/1.1\r\nHost: x\r\n\r\n", true},
		{"announced body never sent", "GET /fleet/v1/clusters HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := send(t, addr, tc.send)
			if tc.answered {
				if code := answer(t, conn); code != http.StatusUnauthorized {
					t.Fatalf("answer %d, want 401", code)
				}
			}
			if err := closedByServer(conn); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestServerRefusesLargeHeaders: headers over the bound get 431 instead
// of being read into memory (Go's default is 1 MiB a connection).
func TestServerRefusesLargeHeaders(t *testing.T) {
	addr := startServer(t, shortLimits)
	for _, tc := range []struct {
		name   string
		header int
		want   int
	}{
		{"a token's size", 4 << 10, http.StatusUnauthorized},
		{"over the bound", 64 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := send(t, addr, fmt.Sprintf("GET /fleet/v1/clusters HTTP/1.1\r\nHost: x\r\nX-Padding: %s\r\n\r\n", strings.Repeat("a", tc.header)))
			if code := answer(t, conn); code != tc.want {
				t.Fatalf("answer %d, want %d", code, tc.want)
			}
		})
	}
}

// TestServerBoundsOpenConnections: beyond maxConns open connections a new
// one is closed at once; once one closes, a new one is served again.
func TestServerBoundsOpenConnections(t *testing.T) {
	limits := shortLimits
	limits.read, limits.idle = time.Minute, time.Minute // held connections stay
	addr := startServer(t, limits)
	var held []*tls.Conn
	for range limits.maxConns {
		c, err := dialTLS(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	if c, err := dialTLS(addr); err == nil {
		c.Close()
		t.Fatalf("connection %d accepted over the bound of %d", limits.maxConns+1, limits.maxConns)
	}
	held[0].Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := dialTLS(addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection accepted after one of the held ones closed: %v", err)
		}
	}
}
