// Package reconcileaudit records when each reconcile of a key started and
// ended on which replica, as one line per event in an append-only file, and
// finds reconciles of one key by two replicas that overlapped in time.
//
// A line is "<unix nanoseconds> <B|E> <replica> <key>". Every replica of a
// benchmark appends to its own file or to a shared one (O_APPEND, one write
// per line); all replicas run on one machine, so their clocks agree.
package reconcileaudit

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Writer appends begin and end events to a file. Safe for concurrent use.
type Writer struct {
	replica string
	mu      sync.Mutex
	f       *os.File
}

// Open opens (creating or appending to) the audit file of replica.
func Open(path, replica string) (*Writer, error) {
	if strings.ContainsAny(replica, " \n") {
		return nil, fmt.Errorf("replica id %q must not contain spaces", replica)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &Writer{replica: replica, f: f}, nil
}

// Record writes one event: begin is the start of a reconcile of key, else
// its end. Errors are dropped: the audit must never fail a reconcile.
func (w *Writer) Record(key string, begin bool) {
	kind := "E"
	if begin {
		kind = "B"
	}
	line := strconv.FormatInt(time.Now().UnixNano(), 10) + " " + kind + " " + w.replica + " " + key + "\n"
	w.mu.Lock()
	defer w.mu.Unlock()
	_, _ = w.f.WriteString(line)
}

// Close closes the file.
func (w *Writer) Close() error { return w.f.Close() }

// Interval is one reconcile of Key by Replica. Open is true when no end was
// recorded (the replica was killed mid-reconcile); End is then the time the
// reader passed as the replica's death, or the end of the log.
type Interval struct {
	Key, Replica string
	Start, End   time.Time
	Open         bool
}

// Parse reads events and pairs each begin with the next end of the same
// (replica, key). A replica reconciles one key at most once at a time (the
// controller's queue guarantees it), so pairing is unambiguous. Begins
// without an end get End = ends[replica] if set, else the last event time.
func Parse(r io.Reader, ends map[string]time.Time) ([]Interval, error) {
	type rk struct{ replica, key string }
	open := map[rk]time.Time{}
	var out []Interval
	var last time.Time
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 4 || (f[1] != "B" && f[1] != "E") {
			return nil, fmt.Errorf("audit line %d: want \"<ns> <B|E> <replica> <key>\", got %q", n, sc.Text())
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("audit line %d: %v", n, err)
		}
		at := time.Unix(0, ns)
		if at.After(last) {
			last = at
		}
		k := rk{f[2], f[3]}
		if f[1] == "B" {
			open[k] = at
			continue
		}
		if start, ok := open[k]; ok {
			out = append(out, Interval{Key: k.key, Replica: k.replica, Start: start, End: at})
			delete(open, k)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for k, start := range open {
		end, ok := ends[k.replica]
		if !ok {
			end = last
		}
		out = append(out, Interval{Key: k.key, Replica: k.replica, Start: start, End: end, Open: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// Overlap is a pair of reconciles of one key by two replicas at once.
type Overlap struct{ A, B Interval }

func (o Overlap) String() string {
	return fmt.Sprintf("%s: %s [%s, %s] and %s [%s, %s]", o.A.Key,
		o.A.Replica, o.A.Start.Format(time.StampMicro), o.A.End.Format(time.StampMicro),
		o.B.Replica, o.B.Start.Format(time.StampMicro), o.B.End.Format(time.StampMicro))
}

// Overlaps lists every pair of intervals of the same key by different
// replicas that share a moment. Intervals that only touch (one ends exactly
// when the other starts) do not overlap.
func Overlaps(ivs []Interval) []Overlap {
	byKey := map[string][]Interval{}
	for _, iv := range ivs {
		byKey[iv.Key] = append(byKey[iv.Key], iv)
	}
	var out []Overlap
	for _, list := range byKey {
		sort.Slice(list, func(i, j int) bool { return list[i].Start.Before(list[j].Start) })
		for i := range list {
			for j := i + 1; j < len(list) && list[j].Start.Before(list[i].End); j++ {
				if list[i].Replica != list[j].Replica {
					out = append(out, Overlap{A: list[i], B: list[j]})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].A.Start.Before(out[j].A.Start) })
	return out
}
