// Package examples loads the Apache operator's example FlinkDeployments kept
// in e2e/conformance/testdata/upstream/examples, for tests of every package.
package examples

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

// Example is one FlinkDeployment document of an example file.
type Example struct {
	// Name is "<file without .yaml>/<metadata.name>".
	Name string
	// Object is the document as the user wrote it.
	Object *unstructured.Unstructured
	// Typed is the document decoded strictly into our types.
	Typed *v1beta1.FlinkDeployment
}

// Dir is the folder of the upstream examples.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "upstream", "examples")
}

// Load reads every FlinkDeployment of every example file, in file order.
// Decoding into our types is strict: a field our API lacks is an error.
func Load() ([]Example, error) {
	files, err := filepath.Glob(filepath.Join(Dir(), "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no examples in %s", Dir())
	}
	var out []Example
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			obj := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(doc, &obj.Object); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if obj.GetKind() != "FlinkDeployment" {
				continue
			}
			typed := &v1beta1.FlinkDeployment{}
			if err := yaml.UnmarshalStrict(doc, typed); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			out = append(out, Example{Name: strings.TrimSuffix(filepath.Base(f), ".yaml") + "/" + obj.GetName(), Object: obj, Typed: typed})
		}
	}
	return out, nil
}

// Named returns a copy of the example named name ("basic/basic-example").
func Named(name string) (*v1beta1.FlinkDeployment, error) {
	all, err := Load()
	if err != nil {
		return nil, err
	}
	for _, ex := range all {
		if ex.Name == name {
			return ex.Typed.DeepCopy(), nil
		}
	}
	return nil, fmt.Errorf("no example %q among the upstream examples", name)
}
