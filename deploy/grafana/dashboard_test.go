package grafana_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	metricName = regexp.MustCompile(`flinkhub_[a-z_]+`)
	suffix     = regexp.MustCompile(`_(bucket|count|sum)$`)
	// defined matches a metric name given to the Prometheus client in Go.
	defined = regexp.MustCompile(`(?:Name:\s*|NewDesc\()"(flinkhub_[a-z_]+)"`)
)

// definedMetrics collects the metric names the hub's Go code defines.
func definedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "bin" || d.Name() == "tools" || strings.HasPrefix(d.Name(), ".")) && path != "../.." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range defined.FindAllStringSubmatch(string(src), -1) {
			out[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDashboardQueriesDefinedMetrics(t *testing.T) {
	raw, err := os.ReadFile("flink-hub-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	if len(dash.Panels) == 0 {
		t.Fatal("no panels")
	}
	known := definedMetrics(t)
	if len(known) < 5 {
		t.Fatalf("found only %d metric definitions: %v", len(known), known)
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			for _, name := range metricName.FindAllString(target.Expr, -1) {
				if !known[suffix.ReplaceAllString(name, "")] && !known[name] {
					t.Errorf("panel %q queries %s, which the hub does not define", p.Title, name)
				}
			}
		}
	}
}
