package flinkconf

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// RestExposedTypes are the values of kubernetes.rest-service.exposed.type,
// spelled as Flink spells them.
var RestExposedTypes = []string{"ClusterIP", "NodePort", "LoadBalancer", "Headless_ClusterIP"}

// RestServiceType translates kubernetes.rest-service.exposed.type as Flink
// does (matching the value case-insensitively; ClusterIP when unset) into
// the REST Service's type and cluster IP: Headless_ClusterIP is a ClusterIP
// Service with clusterIP None, the others their own type.
func (c Config) RestServiceType() (corev1.ServiceType, string, error) {
	v := strings.TrimSpace(c[KeyRestExposedType])
	switch {
	case v == "" || strings.EqualFold(v, "ClusterIP"):
		return corev1.ServiceTypeClusterIP, "", nil
	case strings.EqualFold(v, "NodePort"):
		return corev1.ServiceTypeNodePort, "", nil
	case strings.EqualFold(v, "LoadBalancer"):
		return corev1.ServiceTypeLoadBalancer, "", nil
	case strings.EqualFold(v, "Headless_ClusterIP"):
		return corev1.ServiceTypeClusterIP, corev1.ClusterIPNone, nil
	}
	return "", "", fmt.Errorf("must be one of %s (in any case), as Flink reads it", strings.Join(RestExposedTypes, ", "))
}
