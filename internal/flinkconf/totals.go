package flinkconf

import (
	"strconv"
	"strings"
)

// Totals is what a cluster asks of Kubernetes in all: the CPU and memory of
// its JobManagers (kubernetes.jobmanager.replicas of them) and of
// taskManagers TaskManagers, as upstream reports them in
// status.clusterInfo (total-cpu, total-memory in bytes). A JobManager's CPU
// is 1 and a TaskManager's its slots when unset, as in Flink. ok is false
// when a process memory is unset or unreadable.
func (c Config) Totals(taskManagers int32) (cpu float64, memory int64, ok bool) {
	jms := int64(1)
	if n, err := strconv.ParseInt(strings.TrimSpace(c[KeyJMReplicas]), 10, 32); err == nil && n > 0 {
		jms = n
	}
	jmMem, err := MemoryBytes(c[KeyJMMemory])
	if err != nil {
		return 0, 0, false
	}
	tmMem, err := MemoryBytes(c[KeyTMMemory])
	if err != nil {
		return 0, 0, false
	}
	jmCPU := c.cpu(KeyJMCPU, 1)
	tmCPU := c.cpu(KeyTMCPU, float64(c.Slots()))
	tms := int64(taskManagers)
	return float64(jms)*jmCPU + float64(tms)*tmCPU, jms*jmMem + tms*tmMem, true
}

// cpu reads a CPU amount, def when unset, unreadable or not positive.
func (c Config) cpu(key string, def float64) float64 {
	q, err := ParseQuantity(c[key])
	if err != nil || q.Sign() <= 0 {
		return def
	}
	return float64(q.MilliValue()) / 1000
}
