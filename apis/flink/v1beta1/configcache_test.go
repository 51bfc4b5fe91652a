package v1beta1

import (
	"strconv"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// TestFlatConfigurationCache: a configuration read again comes from the
// cache, equal to the first read; what a caller does to its map reaches
// neither the cache nor the next caller; the cache holds at most
// flatCacheSize configurations.
func TestFlatConfigurationCache(t *testing.T) {
	spec := &FlinkDeploymentSpec{FlinkConfiguration: &apiextensionsv1.JSON{Raw: []byte(`{"a":{"b":1},"kubernetes.operator.x":"y"}`)}}
	first, err := spec.FlatConfiguration()
	if err != nil || first["a.b"] != "1" || first["kubernetes.operator.x"] != "y" {
		t.Fatalf("%v %v", first, err)
	}
	first["a.b"] = "changed by a caller"
	delete(first, "kubernetes.operator.x")
	second, err := spec.FlatConfiguration()
	if err != nil || len(second) != 2 || second["a.b"] != "1" || second["kubernetes.operator.x"] != "y" {
		t.Fatalf("second read %v %v: a caller's change reached the cache", second, err)
	}
	for i := range 2 * flatCacheSize {
		s := &FlinkDeploymentSpec{FlinkConfiguration: &apiextensionsv1.JSON{Raw: []byte(`{"k":` + strconv.Itoa(i) + `}`)}}
		if conf, err := s.FlatConfiguration(); err != nil || conf["k"] != strconv.Itoa(i) {
			t.Fatalf("configuration %d read as %v %v", i, conf, err)
		}
	}
	flatCache.Lock()
	defer flatCache.Unlock()
	if len(flatCache.byRaw) != flatCacheSize || len(flatCache.order) != flatCacheSize {
		t.Fatalf("the cache holds %d configurations (%d in order), want %d", len(flatCache.byRaw), len(flatCache.order), flatCacheSize)
	}
}
