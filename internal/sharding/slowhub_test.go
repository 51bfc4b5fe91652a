package sharding

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// slowLeaseWrites delays every Lease write by delay (0: none), as a loaded
// hub apiserver answers late; a request whose context ends first fails.
type slowLeaseWrites struct {
	next    http.RoundTripper
	delay   atomic.Int64
	delayed atomic.Int64
}

func (s *slowLeaseWrites) RoundTrip(r *http.Request) (*http.Response, error) {
	d := time.Duration(s.delay.Load())
	if d > 0 && r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/leases/") {
		s.delayed.Add(1)
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return s.next.RoundTrip(r)
}

// TestSlowHubRenewalsStillCount: a hub apiserver that answers Lease writes
// after more than a retry period, but well within the renew deadline,
// keeps every fence: a renewal may take until the Lease's validity ends.
// With a retry period as the renewal's timeout, every renewal failed and
// the fences lapsed at the renew deadline.
func TestSlowHubRenewalsStillCount(t *testing.T) {
	const (
		shards = 4
		lease  = 6 * time.Second
		renew  = 4 * time.Second
		retry  = 500 * time.Millisecond
		delay  = 2 * retry
	)
	ns := newNamespace(t)
	slow := &slowLeaseWrites{}
	cfg := rest.CopyConfig(hub.Config)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { slow.next = rt; return slow })
	e := start(t, cfg, ns, "slow", WithShards(shards), WithTimings(lease, renew, retry))
	eventually(t, 20*time.Second, func() error { return exactlyOnce(shards, true, e) })

	slow.delay.Store(int64(delay))
	// Every fence must outlive its renew deadline at least once more while
	// every write is slow: watch ownership for 1.5 renew deadlines.
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	for until := time.Now().Add(renew * 3 / 2); time.Now().Before(until); <-poll.C {
		if n := len(e.OwnedShards()); n != shards {
			t.Fatalf("owns %d of %d shards once Lease writes were answered %v late (retry period %v, renew deadline %v): slow answers lapsed the fences",
				n, shards, delay, retry, renew)
		}
	}
	if n := slow.delayed.Load(); n < int64(shards) {
		t.Fatalf("only %d Lease writes went through the slow hub; the test proves nothing", n)
	}
	if err := e.Ready(); err != nil {
		t.Errorf("not ready with a slow hub: %v", err)
	}
	t.Logf("%d Lease writes answered %v late", slow.delayed.Load(), delay)

	// Leaving while the hub is this slow: the releases time out, and the
	// fences end with Run anyway (their timers would otherwise fire later,
	// in a process that has left the election).
	if err := e.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	e.mu.Lock()
	left := len(e.fences)
	e.mu.Unlock()
	if left != 0 {
		t.Errorf("%d fences still held after Run returned", left)
	}
}
