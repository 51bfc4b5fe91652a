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

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flink-hub/flink-hub/sharding"

	"github.com/flink-hub/flink-hub/e2e/framework"
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
	r := &replica{id: id, record: filepath.Join(dir, stem+".records"), exited: make(chan error, 1)}
	logFile, err := os.Create(filepath.Join(dir, stem+".log"))
	if err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(replicaBin,
		"--kubeconfig", kubeconfig, "--namespace", ns, "--replica-id", id,
		"--record", r.record, "--work", "200ms", "--workers", "16", "--requeue-after", "2s",
		"--lease-duration", leaseDuration.String(), "--renew-deadline", renewDeadline.String(), "--retry-period", retryPeriod.String())
	r.cmd.Env = framework.ChildEnv()
	r.cmd.Stdout, r.cmd.Stderr = logFile, logFile
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.exited <- r.cmd.Wait(); _ = logFile.Close() }()
	t.Cleanup(func() {
		if r.cmd.ProcessState != nil || !r.killed.IsZero() {
			return
		}
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.exited:
		case <-time.After(15 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.exited
		}
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
		t.Fatalf("%s did not exit within %v of SIGTERM", r.id, within)
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

// interval is one reconcile; open is true when the replica never wrote its
// end (it was killed), end is then the kill time.
type interval struct {
	replica, key string
	start, end   time.Time
	open         bool
}

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
				reconciles = append(reconciles, interval{replica: rec.Replica, key: rec.Key, start: time.Unix(0, rec.Start), end: time.Unix(0, rec.End)})
			}
		}
		_ = f.Close()
		for _, rec := range open {
			if r.killed.IsZero() {
				// Still running (or stopped gracefully): in flight now.
				reconciles = append(reconciles, interval{replica: rec.Replica, key: rec.Key, start: time.Unix(0, rec.Start), end: time.Now(), open: true})
				continue
			}
			reconciles = append(reconciles, interval{replica: rec.Replica, key: rec.Key, start: time.Unix(0, rec.Start), end: r.killed, open: true})
		}
	}
	return reconciles, acquires
}

// overlaps lists every pair of reconciles of the same key by two replicas
// whose intervals overlap.
func overlaps(reconciles []interval) []string {
	byKey := map[string][]interval{}
	for _, iv := range reconciles {
		byKey[iv.key] = append(byKey[iv.key], iv)
	}
	var out []string
	for key, ivs := range byKey {
		sort.Slice(ivs, func(i, j int) bool { return ivs[i].start.Before(ivs[j].start) })
		for i := range ivs {
			for j := i + 1; j < len(ivs) && ivs[j].start.Before(ivs[i].end); j++ {
				if ivs[i].replica != ivs[j].replica {
					out = append(out, fmt.Sprintf("%s: %s [%s, %s] and %s [%s, %s]", key,
						ivs[i].replica, ivs[i].start.Format(time.StampMicro), ivs[i].end.Format(time.StampMicro),
						ivs[j].replica, ivs[j].start.Format(time.StampMicro), ivs[j].end.Format(time.StampMicro)))
				}
			}
		}
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
	list := &coordinationv1.LeaseList{}
	if err := fleet.Hub.Client.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{sharding.RoleLabel: sharding.RoleShard}); err != nil {
		return nil, err
	}
	out := map[int]fence{}
	for _, l := range list.Items {
		k, ok := sharding.ParseShardLeaseName(l.Name)
		if !ok {
			continue
		}
		f := fence{}
		if l.Spec.HolderIdentity != nil {
			f.holder = *l.Spec.HolderIdentity
		}
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
