package flinksim

import "strings"

// jobManagerExit is a JobManager process that exits at start, as Flink's
// cluster entrypoint does on a configuration it cannot start with: its
// pod crash-loops. log is the end of what it logged.
type jobManagerExit struct{ log string }

func (e *jobManagerExit) Error() string { return "the JobManager exits at start: " + e.log }

// haStorageKeys are high-availability.storageDir and its deprecated
// fallback key, as Flink reads it.
var haStorageKeys = []string{"high-availability.storageDir", "high-availability.zookeeper.storageDir"}

// entrypointExit is why Flink's cluster entrypoint exits at once with
// configuration conf, nil when it starts: Kubernetes or ZooKeeper high
// availability without high-availability.storageDir, where Flink cannot
// create the HA blob store (HighAvailabilityServicesUtils) and the
// entrypoint fails. Another HA factory class is left to start.
func entrypointExit(conf map[string]string) *jobManagerExit {
	mode := strings.TrimSpace(firstNonEmpty(conf["high-availability.type"], conf["high-availability"]))
	switch {
	case strings.EqualFold(mode, "kubernetes"), strings.EqualFold(mode, "zookeeper"),
		mode == "org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory":
	default:
		return nil
	}
	for _, k := range haStorageKeys {
		if strings.TrimSpace(conf[k]) != "" {
			return nil
		}
	}
	return &jobManagerExit{log: "ERROR org.apache.flink.runtime.entrypoint.ClusterEntrypoint [] - Could not start cluster entrypoint.\n" +
		"org.apache.flink.runtime.entrypoint.ClusterEntrypointException: Failed to initialize the cluster entrypoint.\n" +
		"Caused by: org.apache.flink.configuration.IllegalConfigurationException: Configuration is missing the mandatory parameter: " +
		"Key: 'high-availability.storageDir' , default: null (fallback keys: [{key=high-availability.zookeeper.storageDir, isDeprecated=true}])"}
}
