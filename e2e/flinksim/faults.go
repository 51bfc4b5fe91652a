package flinksim

import (
	"k8s.io/apimachinery/pkg/types"

	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
)

// ClusterFaults are injected into one Flink cluster (member, namespace,
// name) and outlive its JobManager: a restarted JobManager gets them too.
type ClusterFaults struct {
	// JobManager faults: REST latency, errors, hangs, failing savepoints.
	JobManager jobmanager.Faults
	// CrashLoop keeps the JobManager from starting: its pods run but never
	// become ready, their container waiting in CrashLoopBackOff, as with a
	// JobManager that exits at start.
	CrashLoop bool
}

// SetFaults injects faults into a Flink cluster, now and after restarts.
// The zero ClusterFaults clears them.
func (s *Simulator) SetFaults(cluster, namespace, name string, f ClusterFaults) error {
	m := s.member(cluster)
	if m == nil {
		return errNotSimulated(cluster)
	}
	key := types.NamespacedName{Namespace: namespace, Name: name}
	m.mu.Lock()
	m.faults[key] = f
	c := m.clusters[key]
	m.mu.Unlock()
	if c != nil {
		c.jm.SetFaults(f.JobManager)
	}
	m.enqueue(key)
	return nil
}

// Savepoints returns every savepoint a Flink cluster completed, across
// JobManager restarts, oldest first: tests count them to prove that a
// savepoint was taken exactly once.
func (s *Simulator) Savepoints(cluster, namespace, name string) []jobmanager.Checkpoint {
	m := s.member(cluster)
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]jobmanager.Checkpoint(nil), m.savepoints[types.NamespacedName{Namespace: namespace, Name: name}]...)
}

func (m *member) clusterFaults(key types.NamespacedName) ClusterFaults {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.faults[key]
}

func (m *member) recordSavepoint(key types.NamespacedName, sp jobmanager.Checkpoint) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.savepoints[key] = append(m.savepoints[key], sp)
}
