package validation

import (
	"strings"
	"testing"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

func TestValidateEffectiveNeedsHAStorage(t *testing.T) {
	for _, tc := range []struct {
		name string
		conf map[string]string
		want string
	}{
		{"no HA", map[string]string{}, ""},
		{"HA none", map[string]string{"high-availability.type": "NONE"}, ""},
		{"kubernetes HA without storage", map[string]string{"high-availability.type": "kubernetes"}, "spec.flinkConfiguration[high-availability.storageDir]: Required"},
		{"legacy key, factory class, blank storage", map[string]string{"high-availability": "org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory", "high-availability.storageDir": " "}, "needs a storage directory"},
		{"zookeeper HA in capitals", map[string]string{"high-availability.type": "ZOOKEEPER"}, "needs a storage directory"},
		{"kubernetes HA with storage", map[string]string{"high-availability.type": "kubernetes", "high-availability.storageDir": "s3://ha"}, ""},
		{"the deprecated storage key", map[string]string{"high-availability.type": "kubernetes", "high-availability.zookeeper.storageDir": "s3://ha"}, ""},
		{"another factory", map[string]string{"high-availability.type": "com.example.MyHaServicesFactory"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd := &v1beta1.FlinkDeployment{Spec: v1beta1.FlinkDeploymentSpec{FlinkConfiguration: v1beta1.ConfigurationOf(tc.conf)}}
			errs := ValidateEffective(fd)
			switch {
			case tc.want == "" && len(errs) != 0:
				t.Fatalf("refused: %v", errs)
			case tc.want != "" && (len(errs) != 1 || !strings.Contains(errs.ToAggregate().Error(), tc.want)):
				t.Fatalf("errors %v, want %q", errs, tc.want)
			}
		})
	}
}
