package framework

import (
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// lowestPort is the lowest port FreePorts hands out: below it are the
// ports well-known services and the sandbox's defaults use.
const lowestPort = 10000

// FreeAddr returns a free loopback address (127.0.0.1:port) for a server
// the test starts, failing the test if there is none. See FreePorts.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ports, err := FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + strconv.Itoa(ports[0])
}

// FreePorts returns n consecutive loopback ports that are free now and lie
// below the kernel's ephemeral range. A test hands such a port to a
// process that binds it later (after a build or a Helm install); a port of
// the ephemeral range can be taken meanwhile by any outgoing connection on
// the machine or by a server listening on port 0 (test packages run in
// parallel), and the process then fails with "address already in use".
func FreePorts(n int) ([]int, error) {
	high := ephemeralLow() - n
	if high <= lowestPort {
		return nil, errors.New("no ports below the ephemeral range")
	}
	for attempt := 0; attempt < 200; attempt++ {
		base := lowestPort + rand.IntN(high-lowestPort)
		if allFree(base, n) {
			ports := make([]int, n)
			for i := range ports {
				ports[i] = base + i
			}
			return ports, nil
		}
	}
	return nil, errors.New("no " + strconv.Itoa(n) + " consecutive free ports")
}

// allFree reports whether the n loopback ports from base can be bound now.
func allFree(base, n int) bool {
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for i := range n {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+i))
		if err != nil {
			return false
		}
		listeners = append(listeners, l)
	}
	return true
}

// ephemeralLow is the first port of the kernel's ephemeral range (32768
// where /proc does not say).
func ephemeralLow() int {
	raw, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	fields := strings.Fields(string(raw))
	if len(fields) == 0 {
		return 32768
	}
	low, err := strconv.Atoi(fields[0])
	if err != nil {
		return 32768
	}
	return low
}
