package v1beta1

import (
	"encoding/json"
	"testing"
	"time"
)

// TestHostileQuantitiesDecodeAtOnce: a podTemplate quantity whose
// exponent never lets resource.ParseQuantity return is replaced while
// decoding and named in AnnotationRefusedQuantities; an ordinary object
// decodes unchanged and unmarked.
func TestHostileQuantitiesDecodeAtOnce(t *testing.T) {
	hostile := []byte(`{"metadata":{"name":"x"},"spec":{"podTemplate":{"spec":{"containers":[{"name":"flink-main-container",` +
		`"resources":{"limits":{"memory":"9e3372036854775807","cpu":"1e-9999999"},"requests":{"memory":"2Gi"}}}]}}}}`)
	done := make(chan FlinkDeployment, 1)
	go func() {
		var fd FlinkDeployment
		if err := json.Unmarshal(hostile, &fd); err != nil {
			t.Error(err)
		}
		done <- fd
	}()
	var fd FlinkDeployment
	select {
	case fd = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("decoding a FlinkDeployment with a hostile quantity did not return")
	}
	if got, want := fd.Annotations[AnnotationRefusedQuantities], `"9e3372036854775807", "1e-9999999"`; got != want {
		t.Errorf("refused quantities %q, want %q", got, want)
	}
	res := fd.Spec.PodTemplate.Spec.Containers[0].Resources
	if !res.Limits.Memory().IsZero() || res.Requests.Memory().String() != "2Gi" {
		t.Errorf("resources decoded as %+v", res)
	}

	var plain FlinkDeployment
	if err := json.Unmarshal([]byte(`{"metadata":{"name":"x","annotations":{"a":"b"}},"spec":{"image":"flink:2.2","podTemplate":{"spec":{"containers":[{"name":"c","resources":{"limits":{"memory":"1e3"}}}]}}}}`), &plain); err != nil {
		t.Fatal(err)
	}
	if _, marked := plain.Annotations[AnnotationRefusedQuantities]; marked || plain.Spec.Image != "flink:2.2" || plain.Annotations["a"] != "b" ||
		plain.Spec.PodTemplate.Spec.Containers[0].Resources.Limits.Memory().Value() != 1000 {
		t.Errorf("an ordinary object decoded as %+v", plain)
	}
}
