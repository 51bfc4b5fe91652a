package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

// peakRSSBytes is VmHWM, the peak resident set size of a live process.
func peakRSSBytes(pid int) (int64, error) {
	v, err := statusField(pid, "VmHWM")
	if err != nil {
		return 0, err
	}
	kb, err := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
	return kb * 1024, err
}

// cpusAllowed is the list of CPUs a live process may run on (its main
// thread's), e.g. "0-1" or "1".
func cpusAllowed(pid int) (string, error) {
	return statusField(pid, "Cpus_allowed_list")
}

// cpusByProgram lists, for this process and every descendant by program,
// the CPU lists they may run on (several when its processes differ).
func cpusByProgram() (map[string][]string, error) {
	tree, err := treeCPU()
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for pid, p := range tree {
		cpus, err := cpusAllowed(pid)
		if err != nil {
			continue // exited meanwhile
		}
		if !slices.Contains(out[p.name], cpus) {
			out[p.name] = append(out[p.name], cpus)
			slices.Sort(out[p.name])
		}
	}
	return out, nil
}

// statusField is the value of a field of /proc/<pid>/status.
func statusField(pid int, name string) (string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("no %s for pid %d", name, pid)
}

// machine describes the CPU and memory of this machine.
func machine() string {
	model, cpus := "", 0
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpus++
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		if kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(line, "MemTotal:")), " kB"), 10, 64); err == nil {
			mem = fmt.Sprintf("%.0f GiB", float64(kb)/1024/1024)
		}
	}
	return fmt.Sprintf("%d x %s, %s RAM", cpus, model, mem)
}

// selfProgram names this process (the simulator, the fleet's creation and
// the tracker's watches) in cpuByProgram.
const selfProgram = "bench (simulator, tracker)"

// procCPU is one process's command name and CPU seconds.
type procCPU struct {
	name    string
	seconds float64
}

// treeCPU reads the CPU time of this process and of all its descendants
// (control planes, hub replicas), by pid.
func treeCPU() (map[int]procCPU, error) {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	parent := map[int]int{}
	all := map[int]procCPU{}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // exited meanwhile
		}
		name, ppid, secs, err := parseStat(b)
		if err != nil {
			return nil, err
		}
		parent[pid], all[pid] = ppid, procCPU{name: name, seconds: secs}
	}
	out := map[int]procCPU{}
	for pid, p := range all {
		for a := pid; a > 1; a = parent[a] {
			if a == self {
				if pid == self {
					p.name = selfProgram
				}
				out[pid] = p
				break
			}
		}
	}
	return out, nil
}

// parseStat reads the command name (field 2), the parent pid (field 4) and
// utime plus stime (fields 14 and 15) of /proc/<pid>/stat.
func parseStat(b []byte) (name string, ppid int, seconds float64, err error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return "", 0, 0, fmt.Errorf("unexpected /proc stat %q", b)
	}
	if seconds, err = framework.ParseStatCPU(b); err != nil {
		return "", 0, 0, err
	}
	f := strings.Fields(string(b[end+1:]))
	if ppid, err = strconv.Atoi(f[1]); err != nil {
		return "", 0, 0, fmt.Errorf("unexpected /proc stat %q", b)
	}
	return string(b[open+1 : end]), ppid, seconds, nil
}

// cpuReading is the CPU time of this process tree and of the machine at
// one moment.
type cpuReading struct {
	at    time.Time
	procs map[int]procCPU
	busy  float64
}

// readCPU reads treeCPU and busyCPUSeconds now.
func readCPU() (cpuReading, error) {
	procs, err := treeCPU()
	if err != nil {
		return cpuReading{}, err
	}
	busy, err := busyCPUSeconds()
	return cpuReading{at: time.Now(), procs: procs, busy: busy}, err
}

// since returns the CPU seconds by program (cpuByProgram) and the busy
// cores of the machine between before and r.
func (r cpuReading) since(before cpuReading) (map[string]float64, float64) {
	return cpuByProgram(before.procs, r.procs), ratio(r.busy-before.busy, r.at.Sub(before.at).Seconds())
}

// cpuByProgram sums by command name the CPU seconds the processes alive at
// both readings used between them.
func cpuByProgram(before, after map[int]procCPU) map[string]float64 {
	out := map[string]float64{}
	for pid, a := range after {
		if b, ok := before[pid]; ok && b.name == a.name {
			out[a.name] += a.seconds - b.seconds
		}
	}
	return out
}

// busyCPUSeconds is the CPU time all cores of the machine spent on
// anything but idling and waiting for I/O (the first line of /proc/stat).
func busyCPUSeconds() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseBusy(b)
}

// parseBusy reads the "cpu" line of /proc/stat: every field but idle and
// iowait (and guest time, which user already counts).
func parseBusy(b []byte) (float64, error) {
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("unexpected /proc/stat %q", line)
	}
	var busy uint64
	for i, v := range f[1:min(len(f), 9)] { // user nice system idle iowait irq softirq steal
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected /proc/stat %q", line)
		}
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return float64(busy) / framework.ClockTicks, nil
}
