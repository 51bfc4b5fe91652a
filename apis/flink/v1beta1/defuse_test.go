package v1beta1

import (
	"encoding/json"
	"testing"
	"time"
)

// decodeWithin decodes doc as a FlinkDeployment, failing the test if
// decoding has not returned after a few seconds.
func decodeWithin(t *testing.T, doc string) (FlinkDeployment, error) {
	t.Helper()
	type result struct {
		fd  FlinkDeployment
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		r.err = json.Unmarshal([]byte(doc), &r.fd)
		done <- r
	}()
	select {
	case r := <-done:
		return r.fd, r.err
	case <-time.After(5 * time.Second):
		t.Fatalf("decoding %s did not return", doc)
		return FlinkDeployment{}, nil
	}
}

// withLimits is a FlinkDeployment whose podTemplate's main container has
// limits, a JSON object's members.
func withLimits(limits string) string {
	return `{"metadata":{"name":"x"},"spec":{"podTemplate":{"spec":{"containers":[{"name":"flink-main-container",` +
		`"resources":{"limits":{` + limits + `},"requests":{"memory":"2Gi"}}}]}}}}`
}

// TestHostileQuantitiesDecodeAtOnce: a podTemplate quantity whose exponent
// never lets resource.ParseQuantity return, however it is spelled (spaces
// that Quantity.UnmarshalJSON trims, ASCII or Unicode, JSON escapes, a
// number), is replaced while decoding and named in
// AnnotationRefusedQuantities.
func TestHostileQuantitiesDecodeAtOnce(t *testing.T) {
	for _, tc := range []struct{ name, limits, refused string }{
		{"plain", `"memory":"9e3372036854775807","cpu":"1e-9999999"`, `"1e-9999999", "9e3372036854775807"`},
		{"leading space", `"memory":" 9e3372036854775807"`, `" 9e3372036854775807"`},
		{"trailing newline escape", `"memory":"9e3372036854775807\n"`, `"9e3372036854775807\n"`},
		{"leading tab escape", `"memory":"\t9e3372036854775807"`, `"\t9e3372036854775807"`},
		{"leading no-break space", "\"memory\":\"\u00a09e3372036854775807\"", `"\u00a09e3372036854775807"`},
		{"trailing ideographic space", "\"memory\":\"9e3372036854775807\u3000\"", `"9e3372036854775807\u3000"`},
		{"escaped no-break space", `"memory":"\u00a09e3372036854775807"`, `"\u00a09e3372036854775807"`},
		{"escaped digit", `"memory":"\u0039e3372036854775807"`, `"9e3372036854775807"`},
		{"escaped exponent digit", `"memory":"9e337203685477580\u0037"`, `"9e3372036854775807"`},
		{"escaped e", `"memory":"9\u00653372036854775807"`, `"9e3372036854775807"`},
		{"number", `"memory":9e3372036854775807`, `"9e3372036854775807"`},
		{"long", `"memory":"9e33720368547758073372036854775807337203685477580733720368547758073372036854775807"`,
			`"9e33720368547758073372036854775807337203..."`},
		{"many", `"a":"1e100","b":"1e200","c":"1e300","d":"1e400"`, `"1e100", "1e200", "1e300", ...`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd, err := decodeWithin(t, withLimits(tc.limits))
			if err != nil {
				t.Fatal(err)
			}
			if got := fd.Annotations[AnnotationRefusedQuantities]; got != tc.refused {
				t.Errorf("refused quantities %s, want %s", got, tc.refused)
			}
			res := fd.Spec.PodTemplate.Spec.Containers[0].Resources
			if !res.Limits.Memory().IsZero() || res.Requests.Memory().String() != "2Gi" {
				t.Errorf("resources decoded as %+v", res)
			}
		})
	}
}

// TestOrdinaryQuantitiesDecodeUnchanged: objects without a hostile
// quantity, some with escapes or exponent-like hex, decode as they are
// and unmarked.
func TestOrdinaryQuantitiesDecodeUnchanged(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		memory    int64
	}{
		{"small exponent", withLimits(`"memory":"1e3"`), 1000},
		{"escapes elsewhere", `{"metadata":{"name":"x","annotations":{"a":"\u00e9\t","uid":"9e1234-ab"}},"spec":{"image":"flink:2.2","podTemplate":{"spec":{"containers":[{"name":"c","resources":{"limits":{"memory":" 2e3 "}}}]}}}}`, 2000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd, err := decodeWithin(t, tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			if got, marked := fd.Annotations[AnnotationRefusedQuantities]; marked {
				t.Errorf("marked refusing %s", got)
			}
			if got := fd.Spec.PodTemplate.Spec.Containers[0].Resources.Limits.Memory().Value(); got != tc.memory {
				t.Errorf("memory %d, want %d", got, tc.memory)
			}
		})
	}
}
