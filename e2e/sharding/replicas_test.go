package sharding

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/observability/reconcileaudit"
	"github.com/flink-hub/flink-hub/internal/sharding"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
)

// timings of the replicas: the defaults, so the test shows the failover a
// real deployment gets.
var (
	leaseDuration = sharding.DefaultLeaseDuration
	renewDeadline = sharding.DefaultRenewDeadline
	retryPeriod   = sharding.DefaultRetryPeriod
)

// replica is one hub replica process.
type replica struct {
	id     string
	cmd    *exec.Cmd
	record string
	exited chan error
	killed time.Time // set when SIGKILLed
}

func startReplica(t testing.TB, dir, kubeconfig, ns, id string) *replica {
	t.Helper()
	return startReplicaAs(t, dir, kubeconfig, ns, id, id)
}

// startReplicaAs starts a replica whose record and log files are named
// after stem.
func startReplicaAs(t testing.TB, dir, kubeconfig, ns, id, stem string) *replica {
	t.Helper()
	return startReplicaWith(t, dir, kubeconfig, ns, id, stem)
}

// startReplicaWith is startReplicaAs with more flags.
func startReplicaWith(t testing.TB, dir, kubeconfig, ns, id, stem string, extra ...string) *replica {
	t.Helper()
	r := &replica{id: id, record: filepath.Join(dir, stem+".records"), exited: make(chan error, 1)}
	logFile, err := os.Create(filepath.Join(dir, stem+".log"))
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"--kubeconfig", kubeconfig, "--namespace", ns, "--replica-id", id,
		"--record", r.record, "--work", "200ms", "--workers", "16", "--requeue-after", "2s",
		"--lease-duration", leaseDuration.String(), "--renew-deadline", renewDeadline.String(), "--retry-period", retryPeriod.String(),
	}, extra...)
	r.cmd = exec.Command(replicaBin, args...)
	r.cmd.Env = framework.ChildEnv()
	r.cmd.Stdout, r.cmd.Stderr = logFile, logFile
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.exited <- r.cmd.Wait(); _ = logFile.Close() }()
	t.Cleanup(func() {
		// Whether it exited is read from exited, never from
		// cmd.ProcessState, which the goroutine above writes.
		select {
		case err := <-r.exited:
			r.exited <- err
			return
		default:
		}
		if !r.killed.IsZero() {
			return
		}
		framework.Terminate(r.cmd.Process, r.exited, 15*time.Second)
	})
	return r
}

// gone returns an error if the replica exited without being asked to.
func (r *replica) gone() error {
	select {
	case err := <-r.exited:
		r.exited <- err
		return fmt.Errorf("%s exited unexpectedly (%v); see %s.log", r.id, err, strings.TrimSuffix(r.record, ".records"))
	default:
		return nil
	}
}

func (r *replica) kill(t testing.TB) {
	t.Helper()
	r.killed = time.Now()
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-r.exited
}

// terminate sends SIGTERM and returns when the signal was sent; wait for
// the exit with exitedCleanly.
func (r *replica) terminate(t testing.TB) time.Time {
	t.Helper()
	at := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	return at
}

func (r *replica) exitedCleanly(t testing.TB, within time.Duration) {
	t.Helper()
	select {
	case err := <-r.exited:
		r.exited <- err
		if err != nil {
			t.Fatalf("%s exited with %v after SIGTERM; see %s", r.id, err, filepath.Join(filepath.Dir(r.record), r.id+".log"))
		}
	case <-time.After(within):
		t.Fatalf("%s did not exit within %v of SIGTERM; the end of its log:\n%s", r.id, within, logTail(filepath.Join(filepath.Dir(r.record), r.id+".log"), 60))
	}
}

// record is one line a replica appended (see ./replica).
type record struct {
	Event   string `json:"event"`
	Replica string `json:"replica"`
	Key     string `json:"key"`
	Shard   int    `json:"shard"`
	Start   int64  `json:"start"`
	End     int64  `json:"end"`
}

// interval is one reconcile; Open is true when the replica never wrote its
// end (it was killed), End is then the kill time.
type interval = reconcileaudit.Interval

// readRecords returns the reconciles (start lines matched with their end
// lines) and the acquisitions of the replicas.
func readRecords(t testing.TB, rs []*replica) (reconciles []interval, acquires []record) {
	t.Helper()
	for _, r := range rs {
		f, err := os.Open(r.record)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		open := map[string]record{}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var rec record
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				continue // a line cut by SIGKILL
			}
			switch {
			case rec.Event == "acquire":
				acquires = append(acquires, rec)
			case rec.End == 0:
				open[rec.Key+"@"+strconv.FormatInt(rec.Start, 10)] = rec
			default:
				delete(open, rec.Key+"@"+strconv.FormatInt(rec.Start, 10))
				reconciles = append(reconciles, interval{Replica: rec.Replica, Key: rec.Key, Start: time.Unix(0, rec.Start), End: time.Unix(0, rec.End)})
			}
		}
		_ = f.Close()
		for _, rec := range open {
			if r.killed.IsZero() {
				// Still running (or stopped gracefully): in flight now.
				reconciles = append(reconciles, interval{Replica: rec.Replica, Key: rec.Key, Start: time.Unix(0, rec.Start), End: time.Now(), Open: true})
				continue
			}
			reconciles = append(reconciles, interval{Replica: rec.Replica, Key: rec.Key, Start: time.Unix(0, rec.Start), End: r.killed, Open: true})
		}
	}
	return reconciles, acquires
}

// overlaps lists every pair of reconciles of the same key by two replicas
// whose intervals overlap, sorted.
func overlaps(reconciles []interval) []string {
	var out []string
	for _, o := range reconcileaudit.Overlaps(reconciles) {
		out = append(out, o.String())
	}
	sort.Strings(out)
	return out
}

// fence is a shard fence Lease as the test reads it from the hub.
type fence struct {
	holder      string
	transitions int32
}

func fences(ctx context.Context, ns string) (map[int]fence, error) {
	leases, err := framework.ShardLeases(ctx, fleet.Hub.Client, ns)
	if err != nil {
		return nil, err
	}
	out := map[int]fence{}
	for k, l := range leases {
		f := fence{holder: shardlease.Holder(&l)}
		if l.Spec.LeaseTransitions != nil {
			f.transitions = *l.Spec.LeaseTransitions
		}
		out[k] = f
	}
	return out, nil
}

func eventually(t testing.TB, timeout time.Duration, cond func() error) time.Duration {
	t.Helper()
	return framework.AwaitWithin(t, timeout, "condition", cond)
}

// logTail is the last n lines of the file at path (or why it cannot be
// read).
func logTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
