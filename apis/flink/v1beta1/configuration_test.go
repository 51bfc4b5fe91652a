package v1beta1

import (
	"reflect"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

func TestFlatConfiguration(t *testing.T) {
	cases := []struct {
		name    string
		raw     string
		want    map[string]string
		wantErr string
	}{
		{"absent", "", map[string]string{}, ""},
		{"null", "null", map[string]string{}, ""},
		{"flat scalars", `{"taskmanager.numberOfTaskSlots": 2, "a": "x", "b": true, "c": 1.5}`,
			map[string]string{"taskmanager.numberOfTaskSlots": "2", "a": "x", "b": "true", "c": "1.5"}, ""},
		{"nested maps become dotted keys", `{"state": {"backend": {"type": "rocksdb"}, "savepoints.dir": "s3://x"}}`,
			map[string]string{"state.backend.type": "rocksdb", "state.savepoints.dir": "s3://x"}, ""},
		{"lists become semicolon lists", `{"env.java.opts": ["-Xss2m", "-Dx=1"]}`,
			map[string]string{"env.java.opts": "-Xss2m;-Dx=1"}, ""},
		{"big integers keep their digits", `{"n": 12345678901234567890}`,
			map[string]string{"n": "12345678901234567890"}, ""},
		{"not a map", `["a"]`, nil, "must be a map"},
		{"map in list", `{"x": [{"a": 1}]}`, nil, "spec.flinkConfiguration[x]: a list may hold only scalars"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := FlinkDeploymentSpec{}
			if tc.raw != "" {
				spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(tc.raw)}
			}
			got, err := spec.FlatConfiguration()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
