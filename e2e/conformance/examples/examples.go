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

// Document is one document of kind T of an example file.
type Document[T any] struct {
	// Name is "<file without .yaml>/<metadata.name>".
	Name string
	// Object is the document as the user wrote it.
	Object *unstructured.Unstructured
	// Typed is the document decoded strictly into our types.
	Typed *T
}

// Example is one FlinkDeployment document of an example file.
type Example = Document[v1beta1.FlinkDeployment]

// SessionJob is one FlinkSessionJob document of an example file.
type SessionJob = Document[v1beta1.FlinkSessionJob]

// Snapshot is one FlinkStateSnapshot document of a snapshot example file.
type Snapshot = Document[v1beta1.FlinkStateSnapshot]

// SnapshotDir is the folder of the upstream snapshot examples.
func SnapshotDir() string { return filepath.Join(filepath.Dir(Dir()), "snapshot-examples") }

// LoadSnapshots reads every FlinkStateSnapshot of the snapshot examples,
// strictly as Load does.
func LoadSnapshots() ([]Snapshot, error) {
	return loadFrom[v1beta1.FlinkStateSnapshot](SnapshotDir(), "FlinkStateSnapshot")
}

// LoadSnapshotDeployments reads the FlinkDeployments of the snapshot
// examples (started from a snapshot), strictly as Load does.
func LoadSnapshotDeployments() ([]Example, error) {
	return loadFrom[v1beta1.FlinkDeployment](SnapshotDir(), "FlinkDeployment")
}

// FullSpecDir is the folder of the examples written for flink-hub that set
// what the upstream examples leave out (every pod setting, say).
func FullSpecDir() string { return filepath.Join(filepath.Dir(Dir()), "..", "full-spec") }

// LoadFullSpec reads every FlinkDeployment of the full-spec examples,
// strictly as Load does.
func LoadFullSpec() ([]Example, error) {
	return loadFrom[v1beta1.FlinkDeployment](FullSpecDir(), "FlinkDeployment")
}

// Dir is the folder of the upstream examples.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "upstream", "examples")
}

// Load reads every FlinkDeployment of every example file, in file order.
// Decoding into our types is strict: a field our API lacks is an error.
func Load() ([]Example, error) { return load[v1beta1.FlinkDeployment]("FlinkDeployment") }

// LoadSessionJobs reads every FlinkSessionJob of every example file, in
// file order, strictly as Load does.
func LoadSessionJobs() ([]SessionJob, error) { return load[v1beta1.FlinkSessionJob]("FlinkSessionJob") }

// load reads every document of kind of the examples, decoding each
// strictly into T.
func load[T any](kind string) ([]Document[T], error) { return loadFrom[T](Dir(), kind) }

// loadFrom reads every document of kind of the files in dir, decoding
// each strictly into T.
func loadFrom[T any](dir, kind string) ([]Document[T], error) {
	var out []Document[T]
	err := eachDocument(dir, kind, func(name string, obj *unstructured.Unstructured, doc []byte) error {
		typed := new(T)
		if err := yaml.UnmarshalStrict(doc, typed); err != nil {
			return err
		}
		out = append(out, Document[T]{Name: name, Object: obj, Typed: typed})
		return nil
	})
	return out, err
}

// eachDocument calls add with every document of kind in the files of dir,
// named "<file>/<metadata.name>", in file order.
func eachDocument(dir, kind string, add func(name string, obj *unstructured.Unstructured, doc []byte) error) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no examples in %s", dir)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			obj := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(doc, &obj.Object); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			if obj.GetKind() != kind {
				continue
			}
			if err := add(strings.TrimSuffix(filepath.Base(f), ".yaml")+"/"+obj.GetName(), obj, doc); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
		}
	}
	return nil
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
