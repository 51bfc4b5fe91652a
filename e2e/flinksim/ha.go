package flinksim

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
)

// Simulated Kubernetes HA metadata, named and labelled as Flink's
// KubernetesHaServices do.
const (
	haLabelType        = "configmap-type"
	haLabelTypeValue   = "high-availability"
	haCheckpointPrefix = "checkpointID-"
	haCounterKey       = "counter"
	haLeaderKey        = "org.apache.flink.k8s.leader.restserver"
)

// HAClusterConfigMapName is the cluster's HA ConfigMap (leader info).
func HAClusterConfigMapName(clusterID string) string { return clusterID + "-cluster-config-map" }

// HAJobConfigMapName is a job's HA ConfigMap (checkpoint pointers).
func HAJobConfigMapName(clusterID, jobID string) string {
	return clusterID + "-" + jobID + "-config-map"
}

func haLabels(clusterID string) map[string]string {
	return map[string]string{labelApp: clusterID, haLabelType: haLabelTypeValue, labelType: typeNative}
}

// haCheckpoint is the value of a checkpointID-<n> key. Flink stores a
// serialized state handle; the simulator stores this JSON.
type haCheckpoint struct {
	ID   int64  `json:"id"`
	Path string `json:"path"`
}

func haCheckpointKey(id int64) string { return fmt.Sprintf("%s%019d", haCheckpointPrefix, id) }

// writeHALeader records the JobManager as leader in the cluster HA ConfigMap.
func (m *member) writeHALeader(ctx context.Context, ns, clusterID, ip string, port int) error {
	return m.updateHA(ctx, ns, HAClusterConfigMapName(clusterID), clusterID, func(data map[string]string) {
		data[haLeaderKey] = fmt.Sprintf("http://%s:%d", ip, port)
	})
}

// recordHACheckpoint stores a completed checkpoint as the job's latest,
// keeping one, like state.checkpoints.num-retained: 1.
func (m *member) recordHACheckpoint(ctx context.Context, ns, clusterID, jobID string, cp jobmanager.Checkpoint) error {
	value, err := json.Marshal(haCheckpoint{ID: cp.ID, Path: cp.Path})
	if err != nil {
		return err
	}
	return m.updateHA(ctx, ns, HAJobConfigMapName(clusterID, jobID), clusterID, func(data map[string]string) {
		for k := range data {
			if strings.HasPrefix(k, haCheckpointPrefix) {
				delete(data, k)
			}
		}
		data[haCheckpointKey(cp.ID)] = string(value)
		data[haCounterKey] = strconv.FormatInt(cp.ID+1, 10)
	})
}

func (m *member) updateHA(ctx context.Context, ns, name, clusterID string, edit func(map[string]string)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cm corev1.ConfigMap
		err := m.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &cm)
		if apierrors.IsNotFound(err) {
			cm = corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: haLabels(clusterID)}, Data: map[string]string{}}
			edit(cm.Data)
			return m.client.Create(ctx, &cm)
		}
		if err != nil {
			return err
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		edit(cm.Data)
		return m.client.Update(ctx, &cm)
	})
}

// haKeys reads the HA ConfigMap ns/name: its data and its keys with
// prefix, sorted; none when the ConfigMap does not exist.
func (m *member) haKeys(ctx context.Context, ns, name, prefix string) (map[string]string, []string, error) {
	var cm corev1.ConfigMap
	err := m.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &cm)
	if apierrors.IsNotFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var keys []string
	for k := range cm.Data {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return cm.Data, keys, nil
}

// latestHACheckpoint returns the latest checkpoint recorded for the job in
// its HA ConfigMap, or nil when there is none.
func (m *member) latestHACheckpoint(ctx context.Context, ns, clusterID, jobID string) (*jobmanager.Restore, error) {
	name := HAJobConfigMapName(clusterID, jobID)
	data, keys, err := m.haKeys(ctx, ns, name, haCheckpointPrefix)
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	var cp haCheckpoint
	if err := json.Unmarshal([]byte(data[keys[len(keys)-1]]), &cp); err != nil {
		return nil, fmt.Errorf("HA ConfigMap %s/%s key %s: %w", ns, name, keys[len(keys)-1], err)
	}
	return &jobmanager.Restore{Path: cp.Path, CheckpointID: cp.ID}, nil
}

// haJobGraphPrefix keys a session job in the cluster HA ConfigMap, as
// Flink's job graph store does; the value is the simulator's JobSpec JSON.
const haJobGraphPrefix = "jobGraph-"

// recordJobGraph stores a session job so a restarted JobManager recovers it.
func (m *member) recordJobGraph(ctx context.Context, ns, clusterID string, spec jobmanager.JobSpec) error {
	value, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	return m.updateHA(ctx, ns, HAClusterConfigMapName(clusterID), clusterID, func(data map[string]string) {
		data[haJobGraphPrefix+spec.JobID] = string(value)
	})
}

// cleanUpJobHA removes a globally terminated job's HA metadata, as Flink
// does: its job graph and its checkpoint ConfigMap. A later deployment of
// the same cluster therefore restores from a savepoint, not from stale
// checkpoints.
func (m *member) cleanUpJobHA(ctx context.Context, ns, clusterID, jobID string) error {
	err := m.updateHA(ctx, ns, HAClusterConfigMapName(clusterID), clusterID, func(data map[string]string) {
		delete(data, haJobGraphPrefix+jobID)
	})
	if err != nil {
		return err
	}
	cm := &corev1.ConfigMap{}
	cm.Namespace, cm.Name = ns, HAJobConfigMapName(clusterID, jobID)
	if err := m.client.Delete(ctx, cm); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

// recoverJobGraphs returns a session cluster's stored jobs, each restoring
// from its latest HA checkpoint if it has one.
func (m *member) recoverJobGraphs(ctx context.Context, ns, clusterID string) ([]jobmanager.JobSpec, error) {
	name := HAClusterConfigMapName(clusterID)
	data, keys, err := m.haKeys(ctx, ns, name, haJobGraphPrefix)
	if err != nil {
		return nil, err
	}
	var specs []jobmanager.JobSpec
	for _, k := range keys {
		var spec jobmanager.JobSpec
		if err := json.Unmarshal([]byte(data[k]), &spec); err != nil {
			return nil, fmt.Errorf("HA ConfigMap %s/%s key %s: %w", ns, name, k, err)
		}
		restore, err := m.latestHACheckpoint(ctx, ns, clusterID, spec.JobID)
		if err != nil {
			return nil, err
		}
		if restore != nil {
			spec.Restore = restore
		}
		specs = append(specs, spec)
	}
	return specs, nil
}
