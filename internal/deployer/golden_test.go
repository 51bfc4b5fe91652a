package deployer_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/deployer/native"
	"github.com/flink-hub/flink-hub/internal/deployer/standalone"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixtures are the upstream examples placed in a namespace with a fixed UID
// and generation so the output is stable.
func fixtures(t *testing.T) map[string]*v1beta1.FlinkDeployment {
	t.Helper()
	all, err := examples.Load()
	if err != nil {
		t.Fatal(err)
	}
	full, err := examples.LoadFullSpec()
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, full...)
	out := map[string]*v1beta1.FlinkDeployment{}
	for _, ex := range all {
		fd := ex.Typed.DeepCopy()
		fd.Namespace, fd.UID, fd.Generation = "team-a", types.UID("00000000-0000-0000-0000-000000000001"), 1
		out[strings.ReplaceAll(ex.Name, "/", "-")] = fd
	}
	return out
}

func deployers() []deployer.Deployer { return []deployer.Deployer{native.New(), standalone.New()} }

func TestGoldenResources(t *testing.T) {
	for name, fd := range fixtures(t) {
		for _, d := range deployers() {
			t.Run(name+"/"+string(d.Mode()), func(t *testing.T) {
				objs, err := d.Resources(fd, deployer.Inputs{})
				if err != nil {
					t.Fatalf("resources: %v", err)
				}
				var buf bytes.Buffer
				for _, o := range objs {
					raw, err := yaml.Marshal(o)
					if err != nil {
						t.Fatal(err)
					}
					buf.WriteString("---\n")
					buf.Write(raw)
				}
				golden := filepath.Join("testdata", "golden", name+"."+string(d.Mode())+".yaml")
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./internal/deployer/ -update to create it)", err)
				}
				if !bytes.Equal(want, buf.Bytes()) {
					t.Fatalf("%s differs from what the deployer builds now; if the change is intended, run go test ./internal/deployer/ -update and review the diff.\ngot:\n%s", golden, buf.String())
				}
			})
		}
	}
}

func rawJSON(s string) *apiextensionsv1.JSON { return &apiextensionsv1.JSON{Raw: []byte(s)} }
