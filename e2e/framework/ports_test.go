package framework

import (
	"net"
	"strconv"
	"testing"
)

// TestFreePortsAreConsecutiveBindableAndBelowTheEphemeralRange checks what
// a test that hands the ports to a later process relies on.
func TestFreePortsAreConsecutiveBindableAndBelowTheEphemeralRange(t *testing.T) {
	low := ephemeralLow()
	for _, n := range []int{1, 3, 4} {
		ports, err := FreePorts(n)
		if err != nil {
			t.Fatal(err)
		}
		if len(ports) != n {
			t.Fatalf("FreePorts(%d) gave %v", n, ports)
		}
		for i, p := range ports {
			if p < lowestPort || p >= low {
				t.Errorf("port %d outside [%d, %d)", p, lowestPort, low)
			}
			if p != ports[0]+i {
				t.Errorf("ports %v not consecutive", ports)
			}
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				t.Fatalf("port %d not free: %v", p, err)
			}
			l.Close()
		}
	}
}
