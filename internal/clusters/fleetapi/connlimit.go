package fleetapi

import (
	"net"
	"sync"
	"sync/atomic"
)

// connLimit is a listener that holds at most max connections open: one
// accepted beyond that is closed at once, so a client opening connections
// without end cannot make the server hold their buffers and goroutines
// (golang.org/x/net/netutil's LimitListener instead stops accepting, which
// leaves the connections waiting in the kernel's backlog without a word).
type connLimit struct {
	net.Listener
	max  int
	open atomic.Int64
}

// Accept returns the next connection within the limit, closing those
// beyond it.
func (l *connLimit) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= int64(l.max) {
			return &limitedConn{Conn: c, release: func() { l.open.Add(-1) }}, nil
		}
		l.open.Add(-1)
		_ = c.Close()
	}
}

// limitedConn gives its place back when closed (once, however often it is
// closed).
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close closes the connection and gives its place back.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
