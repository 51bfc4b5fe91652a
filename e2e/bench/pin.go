package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// cpuSplit gives the hub replicas CPUs of their own: the benchmark process
// (the simulator) and the control planes it starts run on the others, as
// in production, where hub replicas do not share CPUs with member
// apiservers.
type cpuSplit struct {
	// all are the CPUs this process could use before the split.
	all, hub, rest unix.CPUSet
	// hubList and restList are hub and rest as taskset(1) reads them,
	// e.g. "1" or "2,3".
	hubList, restList string
}

// cpuSplitOf reads the -hub-cpus flag: "none" (or empty) splits nothing;
// "auto" gives the hub the upper half of the CPUs this process may use,
// when it may use at least two; else a CPU list ("1", "2,3", "4-7") of
// CPUs this process may use goes to the hub, and the rest to the members.
func cpuSplitOf(flag string) (*cpuSplit, error) {
	switch flag {
	case "", "none":
		return nil, nil
	case "auto":
		var all unix.CPUSet
		if err := unix.SchedGetaffinity(0, &all); err != nil {
			return nil, fmt.Errorf("read this process's CPUs: %w", err)
		}
		cpus := cpuList(&all)
		if len(cpus) < 2 {
			return nil, nil
		}
		return parseCPUSplit(joinCPUs(cpus[len(cpus)/2:]))
	default:
		return parseCPUSplit(flag)
	}
}

// cpuList lists the CPUs of set in order.
func cpuList(set *unix.CPUSet) []int {
	var cpus []int
	for cpu := range len(set) * 64 {
		if set.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	return cpus
}

// joinCPUs writes cpus as a CPU list.
func joinCPUs(cpus []int) string {
	parts := make([]string, len(cpus))
	for i, cpu := range cpus {
		parts[i] = strconv.Itoa(cpu)
	}
	return strings.Join(parts, ",")
}

// parseCPUList reads a CPU list as /proc and taskset(1) write it ("1",
// "2,3", "4-7" or "0,2-3") into its CPUs, in order, each once.
func parseCPUList(list string) ([]int, error) {
	var cpus []int
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		first, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("CPU list %q: %w", list, err)
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("CPU list %q: %w", list, err)
			}
		}
		for cpu := first; cpu <= last; cpu++ {
			cpus = append(cpus, cpu)
		}
	}
	slices.Sort(cpus)
	return slices.Compact(cpus), nil
}

// parseCPUSplit reads a CPU list of the CPUs this process may use: those
// go to the hub, the remaining ones to the rest. Both sides must keep at
// least one CPU.
func parseCPUSplit(list string) (*cpuSplit, error) {
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		return nil, fmt.Errorf("read this process's CPUs: %w", err)
	}
	cpus, err := parseCPUList(list)
	if err != nil {
		return nil, err
	}
	s := &cpuSplit{all: all}
	for _, cpu := range cpus {
		if !all.IsSet(cpu) {
			return nil, fmt.Errorf("CPU list %q: CPU %d is not one this process may use", list, cpu)
		}
		s.hub.Set(cpu)
	}
	s.rest = all
	for _, cpu := range cpuList(&s.hub) {
		s.rest.Clear(cpu)
	}
	if s.hub.Count() == 0 || s.rest.Count() == 0 {
		return nil, fmt.Errorf("CPU list %q must leave the hub and the rest at least one CPU each (this process may use %d)", list, all.Count())
	}
	s.hubList, s.restList = joinCPUs(cpuList(&s.hub)), joinCPUs(cpuList(&s.rest))
	return s, nil
}

// hubCommand is the command line that runs bin with args on the hub's
// CPUs.
func (s *cpuSplit) hubCommand(bin string, args []string) (string, []string) {
	if s == nil {
		return bin, args
	}
	return "taskset", append([]string{"-c", s.hubList, bin}, args...)
}

// pinSelf sets the CPUs of every thread of this process: threads and
// processes started later inherit them from the thread that starts them.
// A thread started while the list is read is caught by the next pass.
func pinSelf(set *unix.CPUSet) error {
	pinned := map[int]bool{}
	for range 10 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		fresh := 0
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil || pinned[tid] {
				continue
			}
			if err := unix.SchedSetaffinity(tid, set); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("pin thread %d: %w", tid, err)
			}
			pinned[tid] = true
			fresh++
		}
		if fresh == 0 {
			return nil
		}
	}
	return errors.New("pin this process: threads kept appearing")
}
