package framework

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// ChromiumEnv names the Chromium binary to drive; by default the first of
// chromium, chromium-browser and google-chrome on PATH (Debian's chromium
// package, which `make test` installs as root).
const ChromiumEnv = "FLINKHUB_CHROMIUM"

// chromium finds the browser binary.
func chromium() (string, error) {
	if p := os.Getenv(ChromiumEnv); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium found: install Debian's chromium package (`make test` does as root) or set %s", ChromiumEnv)
}

// Browser starts headless Chromium for t and returns a context of one
// tab, closed when t ends. Chromium runs without its sandbox (tests run as
// root) and with a fresh profile.
func Browser(t *testing.T) context.Context {
	t.Helper()
	bin, err := chromium()
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1600, 1000),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// Start the browser now, so that a missing library fails here.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", bin, err)
	}
	return ctx
}

// ArtifactsEnv names the folder tests save artifacts (screenshots) in; by
// default _artifacts in the repository (ignored by git).
const ArtifactsEnv = "ARTIFACTS"

// SaveArtifact writes data as name under the artifacts folder and returns
// its path.
func SaveArtifact(t *testing.T, name string, data []byte) string {
	t.Helper()
	dir := os.Getenv(ArtifactsEnv)
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "_artifacts")
	}
	path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_"), name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved %s", path)
	return path
}
