package deployer_test

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/controllers/deployer"
	"github.com/flink-hub/flink-hub/controllers/deployer/native"
	"github.com/flink-hub/flink-hub/controllers/deployer/standalone"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const examplesDir = "../../e2e/conformance/testdata/upstream/examples"

// examples reads every FlinkDeployment of the upstream examples, placed in
// a namespace with a fixed UID and generation so the output is stable.
func examples(t *testing.T) map[string]*v1beta1.FlinkDeployment {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples in %s: %v", examplesDir, err)
	}
	out := map[string]*v1beta1.FlinkDeployment{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := dec.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			var head struct{ Kind string }
			if err := yaml.Unmarshal(doc, &head); err != nil || head.Kind != "FlinkDeployment" {
				continue
			}
			fd := &v1beta1.FlinkDeployment{}
			if err := yaml.UnmarshalStrict(doc, fd); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			fd.Namespace, fd.UID, fd.Generation = "team-a", types.UID("00000000-0000-0000-0000-000000000001"), 1
			out[strings.TrimSuffix(filepath.Base(f), ".yaml")+"-"+fd.Name] = fd
		}
	}
	return out
}

func deployers() []deployer.Deployer { return []deployer.Deployer{native.New(), standalone.New()} }

func TestGoldenResources(t *testing.T) {
	for name, fd := range examples(t) {
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
					t.Fatalf("%v (run go test ./controllers/deployer/ -update to create it)", err)
				}
				if !bytes.Equal(want, buf.Bytes()) {
					t.Fatalf("%s differs from what the deployer builds now; if the change is intended, run go test ./controllers/deployer/ -update and review the diff.\ngot:\n%s", golden, buf.String())
				}
			})
		}
	}
}

func rawJSON(s string) *apiextensionsv1.JSON { return &apiextensionsv1.JSON{Raw: []byte(s)} }
