package framework

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// RepoRoot is the root of the flink-hub checkout this package was built from.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// CRDDir is the folder of flink-hub's generated CRDs.
func CRDDir() string { return filepath.Join(RepoRoot(), "deploy", "crds") }

// UpstreamCRDDir is the folder of the Apache operator's CRDs, the reference
// for conformance (a copy kept in the repository so a clean clone has it).
func UpstreamCRDDir() string {
	return filepath.Join(RepoRoot(), "e2e", "conformance", "testdata", "upstream", "crds")
}

// rebuildHint tells the user how to get working control plane binaries.
const rebuildHint = "build them with `make test-bins` (or `make test`); to rebuild from scratch: rm -rf bin/k8s && make test-bins"

// AssetsDir returns the folder holding kube-apiserver and etcd:
// $KUBEBUILDER_ASSETS when set, else bin/k8s of the checkout. It fails with
// a hint on how to build them when either binary is missing or not
// executable.
func AssetsDir() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "bin", "k8s")
	}
	var problems []error
	for _, name := range []string{"kube-apiserver", "etcd"} {
		path := filepath.Join(dir, name)
		info, err := os.Stat(path)
		switch {
		case err != nil:
			problems = append(problems, fmt.Errorf("%s is missing", path))
		case info.IsDir() || info.Mode().Perm()&0o111 == 0:
			problems = append(problems, fmt.Errorf("%s is not an executable file", path))
		}
	}
	if len(problems) > 0 {
		return "", fmt.Errorf("control plane binaries not usable (%w); %s", errors.Join(problems...), rebuildHint)
	}
	return dir, nil
}

// Helm3Binary is bin/helm3 of the checkout (Helm 3's CLI, built by `make
// test`), or $HELM3_BIN.
func Helm3Binary() (string, error) { return toolBinary("HELM3_BIN", "helm3", "make test") }

// toolBinary is the executable in $env, else bin/<name> of the checkout; it
// fails, naming the make command that builds it, when that is not an
// executable file.
func toolBinary(env, name, build string) (string, error) {
	path := os.Getenv(env)
	if path == "" {
		path = filepath.Join(RepoRoot(), "bin", name)
	}
	if info, err := os.Stat(path); err != nil || info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("%s binary %s is missing or not executable; build it with `%s`", name, path, build)
	}
	return path, nil
}
