package validation

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// haStorageModes are the high-availability.type values (and Kubernetes'
// factory class) whose services keep their blobs and job state under
// high-availability.storageDir: Flink's JobManager does not start without
// it. Another factory class may not need it.
var haStorageModes = []string{"kubernetes", "zookeeper", "org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory"}

// haStorageKeys name the HA storage directory, the deprecated key last.
var haStorageKeys = []string{flinkconf.KeyHAStorageDir, "high-availability.zookeeper.storageDir"}

// ValidateEffective checks fd's effective configuration (the spec with the
// fleet's and its member's defaults merged) for what only it can tell: a
// member's default often supplies the HA storage directory. The
// controller runs it after Validate, and so does the webhook when the
// call names its member (that member's defaults merged).
func ValidateEffective(fd *v1beta1.FlinkDeployment) field.ErrorList {
	conf, err := fd.Spec.FlatConfiguration()
	if err != nil {
		return nil // Validate reports it
	}
	mode := conf[flinkconf.KeyHAType]
	if mode == "" {
		mode = conf[flinkconf.KeyHALegacy]
	}
	mode = strings.TrimSpace(mode)
	if !slices.ContainsFunc(haStorageModes, func(m string) bool { return strings.EqualFold(m, mode) }) {
		return nil
	}
	for _, k := range haStorageKeys {
		if !blank(conf[k]) {
			return nil
		}
	}
	return field.ErrorList{field.Required(field.NewPath("spec", "flinkConfiguration").Key(flinkconf.KeyHAStorageDir),
		"high availability ("+mode+") needs a storage directory: Flink's JobManager does not start without one")}
}
