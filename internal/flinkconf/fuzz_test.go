package flinkconf

import (
	"strings"
	"testing"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// FuzzRender: whatever the keys and values, Flink reads back from the
// rendered config.yaml exactly the configuration rendered (a hostile key or
// value cannot add or override a key, e.g. kubernetes.cluster-id), and the
// legacy flink-conf.yaml is either one line per key or refused; a key Flink
// would read trimmed is refused in both.
func FuzzRender(f *testing.F) {
	f.Add("taskmanager.numberOfTaskSlots", "2")
	f.Add("env.java.opts.all", "-Dx=\"y\" # not a comment")
	f.Add("a: b\nkubernetes.cluster-id", "other")
	f.Add("k", "v\nkubernetes.cluster-id: other")
	f.Add("#k", "'quoted'")
	f.Add("", "")
	f.Add("kubernetes.cluster-id ", "other")
	f.Fuzz(func(t *testing.T, key, value string) {
		if !utf8.ValidString(key) || !utf8.ValidString(value) {
			t.Skip("the configuration comes from JSON: valid UTF-8")
		}
		if key == KeyClusterID {
			t.Skip("the operator's key")
		}
		c := Config{key: value, KeyClusterID: "mine"}
		out, err := c.Render(FileNameYAML)
		if CheckKey(key) != nil {
			if err == nil {
				t.Fatalf("config.yaml rendered %q, which Flink may read trimmed", key)
			}
			return
		}
		if err != nil {
			t.Fatalf("config.yaml refused %q: %v", key, err)
		}
		var back map[string]string
		if err := yaml.Unmarshal([]byte(out), &back); err != nil {
			t.Fatalf("config.yaml does not parse: %v\n%s", err, out)
		}
		if len(back) != len(c) || back[key] != value || back[KeyClusterID] != c[KeyClusterID] {
			t.Fatalf("config.yaml reads back %q, rendered %q:\n%s", back, c, out)
		}
		legacy, err := c.Render(LegacyFileName)
		if err != nil {
			return
		}
		if lines := strings.Count(legacy, "\n"); lines != len(c) || strings.ContainsRune(legacy, '\r') {
			t.Fatalf("flink-conf.yaml has %d lines for %d keys:\n%s", lines, len(c), legacy)
		}
	})
}

// FuzzMemoryBytes: a memory size is positive and FormatMemory writes it
// back as the same number of bytes.
func FuzzMemoryBytes(f *testing.F) {
	for _, s := range []string{"2048m", "2Gi", "1.5G", "1g", "100 mb", "1e3", "0", "-1Gi", "9223372036854775807", "8Ei", "1.000001k"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := MemoryBytes(s)
		if err != nil {
			return
		}
		if n <= 0 {
			t.Fatalf("MemoryBytes(%q) = %d", s, n)
		}
		if back, err := MemoryBytes(FormatMemory(n)); err != nil || back != n {
			t.Fatalf("MemoryBytes(%q) = %d, but FormatMemory gives %q = %d (%v)", s, n, FormatMemory(n), back, err)
		}
	})
}

// FuzzParseDuration: a duration read is never negative.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"10 min", "6h", "30 s", "1d", "500", "1µs", "9223372036854775807 d", " 5 ms ", "-1s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseDuration(s); err == nil && d < 0 {
			t.Fatalf("ParseDuration(%q) = %v", s, d)
		}
	})
}
