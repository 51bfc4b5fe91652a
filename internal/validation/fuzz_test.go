package validation

import (
	"encoding/json"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// FuzzValidate: any spec is judged without a panic, twice the same, and a
// spec it accepts gives a Flink configuration file the hub can write and in
// which the keys the hub owns are the hub's.
func FuzzValidate(f *testing.F) {
	raw, _ := json.Marshal(valid().Spec)
	f.Add("wordcount", string(raw))
	f.Add("wordcount", `{"image":"flink:1.18","flinkVersion":"v1_18","serviceAccount":"flink","flinkConfiguration":{"a\nkubernetes.cluster-id":"other"}}`)
	f.Add("wordcount", `{"flinkVersion":"v2_2","serviceAccount":"flink","flinkConfiguration":{"a":"b\nkubernetes.cluster-id: other"},"job":{"jarURI":"local:///a.jar","parallelism":-1}}`)
	f.Add("x", `{"flinkVersion":"v1_17","serviceAccount":"flink","mode":"standalone","flinkConfiguration":{"kubernetes.operator.periodic.savepoint.interval":"0 0 * * *"},"logConfiguration":{"log4j-console.properties":"x"}}`)
	f.Add("x", `{"flinkVersion":"v2_2","serviceAccount":"flink","jobManager":{"replicas":2,"resource":{"memory":"0","cpu":-1}},"taskManager":{"resource":{"memory":"1e400"}},"ingress":{"template":"{{name}}"}}`)
	f.Fuzz(func(t *testing.T, name, spec string) {
		fd := valid()
		fd.Name = name
		fd.Spec = v1beta1.FlinkDeploymentSpec{}
		if json.Unmarshal([]byte(spec), &fd.Spec) != nil {
			return
		}
		errs := Validate(fd, nil)
		again := Validate(fd, &fd.Spec)
		if len(errs) > 0 {
			if len(again) == 0 {
				t.Fatalf("refused alone (%v) but accepted against itself", errs.ToAggregate())
			}
			return
		}
		conf, err := flinkconf.Build(fd, fd.Spec.Mode, flinkconf.Restore{})
		if err != nil {
			return // the deployer reports it; not a rendering question
		}
		file := flinkconf.FileName(fd.Spec.FlinkVersion)
		out, err := conf.Render(file)
		if err != nil {
			t.Fatalf("accepted a spec whose %s cannot be written: %v\n%s", file, err, spec)
		}
		for _, k := range ForbiddenConfigKeys {
			if got, want := readKey(t, file, out, k), conf[k]; got != want {
				t.Fatalf("%s in %s reads %q, the hub set %q\n%s", k, file, got, want, out)
			}
		}
	})
}

// readKey reads key from a rendered configuration file as Flink does.
func readKey(t *testing.T, file, out, key string) string {
	if file == flinkconf.FileNameYAML {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("%s does not parse: %v\n%s", file, err, out)
		}
		s, _ := m[key].(string)
		return s
	}
	// flink-conf.yaml: "key: value" lines, '#' starts a comment, the last
	// line with a key wins.
	value := ""
	for line := range strings.SplitSeq(out, "\n") {
		line, _, _ = strings.Cut(line, "#")
		k, v, ok := strings.Cut(line, ": ")
		if ok && strings.TrimSpace(k) == key {
			value = strings.TrimSpace(v)
		}
	}
	return value
}
