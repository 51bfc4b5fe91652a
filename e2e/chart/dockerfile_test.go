package chart_test

import (
	"bufio"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

// dockerfile is what the test reads from the Dockerfile.
type dockerfile struct {
	froms      []string
	user       string
	entrypoint string
	version    string   // default of ARG VERSION
	builds     []string // RUN lines that run go build
}

func parseDockerfile(t *testing.T) dockerfile {
	t.Helper()
	f, err := os.Open(filepath.Join(framework.RepoRoot(), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var d dockerfile
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		instr, rest, _ := strings.Cut(line, " ")
		switch instr {
		case "FROM":
			d.froms = append(d.froms, strings.Fields(rest)[0])
		case "USER":
			d.user = rest
		case "ENTRYPOINT":
			d.entrypoint = rest
		case "ARG":
			if v, ok := strings.CutPrefix(rest, "VERSION="); ok {
				d.version = v
			}
		case "RUN":
			if strings.Contains(rest, "go build") {
				d.builds = append(d.builds, rest)
			}
		}
	}
	return d
}

// buildContext copies the files of the repository that .dockerignore lets
// into the image build into a new folder.
func buildContext(t *testing.T) string {
	t.Helper()
	root := framework.RepoRoot()
	raw, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs, suffixes []string
	for _, p := range strings.Split(string(raw), "\n") {
		p = strings.TrimSpace(p)
		switch {
		case p == "" || strings.HasPrefix(p, "#"):
		case strings.HasSuffix(p, "/"):
			dirs = append(dirs, p)
		case strings.HasPrefix(p, "**/*"):
			suffixes = append(suffixes, strings.TrimPrefix(p, "**/*"))
		default:
			t.Fatalf(".dockerignore pattern %q is not understood by this test", p)
		}
	}
	out, err := exec.Command("git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.TempDir()
files:
	for _, name := range strings.Fields(string(out)) {
		for _, d := range dirs {
			if strings.HasPrefix(name+"/", d) {
				continue files
			}
		}
		for _, s := range suffixes {
			if strings.HasSuffix(name, s) {
				continue files
			}
		}
		if _, err := os.Stat(filepath.Join(root, name)); os.IsNotExist(err) {
			continue // deleted in the work tree
		}
		copyFile(t, filepath.Join(root, name), filepath.Join(ctx, name))
	}
	return ctx
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
}

// TestDockerfileBuildsStaticNonRootImageTheChartUses runs the Dockerfile's
// go build steps in a copy of its build context (no container runtime is
// needed for them) and checks the result: both binaries, static, a
// non-root user on an empty base, no registry host, and the version the
// chart installs by default.
func TestDockerfileBuildsStaticNonRootImageTheChartUses(t *testing.T) {
	d := parseDockerfile(t)
	if len(d.froms) == 0 || d.froms[len(d.froms)-1] != "scratch" {
		t.Errorf("final stage FROM %v, want scratch", d.froms)
	}
	registryHost := regexp.MustCompile(`^[^/]*[.:][^/]*/`)
	for _, f := range d.froms {
		if registryHost.MatchString(f) {
			t.Errorf("FROM %s names a registry host", f)
		}
	}
	if uid, _, _ := strings.Cut(d.user, ":"); uid == "" || uid == "0" || uid == "root" {
		t.Errorf("USER %q, want a non-root numeric user", d.user)
	}
	if d.entrypoint != `["/flink-hub"]` {
		t.Errorf("ENTRYPOINT %s", d.entrypoint)
	}
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	raw, err := os.ReadFile(filepath.Join(chartDir(), "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &chart); err != nil {
		t.Fatal(err)
	}
	if d.version != chart.AppVersion {
		t.Errorf("Dockerfile VERSION %q, chart appVersion %q: the chart's default image tag is the appVersion", d.version, chart.AppVersion)
	}
	if len(d.builds) != 2 {
		t.Fatalf("%d go build steps, want the hub's and the plugin's", len(d.builds))
	}

	ctx := buildContext(t)
	outDir := t.TempDir()
	for _, step := range d.builds {
		cmd := exec.Command("sh", "-c", strings.ReplaceAll(step, "/out/", outDir+"/"))
		cmd.Dir = ctx
		cmd.Env = append(os.Environ(), "VERSION="+d.version)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("RUN %s: %v\n%s", step, err, out)
		}
	}
	for _, bin := range []string{"flink-hub", "kubectl-flinkhub"} {
		path := filepath.Join(outDir, bin)
		f, err := elf.Open(path)
		if err != nil {
			t.Fatalf("%s: %v", bin, err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked", bin)
			}
		}
		f.Close()
	}
	out, err := exec.Command(filepath.Join(outDir, "flink-hub"), "--version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "flink-hub "+chart.AppVersion {
		t.Errorf("flink-hub --version: %q, %v", out, err)
	}
	if out, err := exec.Command(filepath.Join(outDir, "kubectl-flinkhub"), "--help").CombinedOutput(); err != nil || !strings.Contains(string(out), "cluster") {
		t.Errorf("kubectl-flinkhub --help: %q, %v", out, err)
	}
}
