package jarfetch

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// holdLock opens path (creating it) and locks it as another live process
// would; flock locks belong to an open file description, so it conflicts
// with the Fetchers' own opens in this process as another process's would.
func holdLock(t *testing.T, path string) {
	t.Helper()
	file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { file.Close() })
	if err := unix.Flock(int(file.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path string, content []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestNewClearsLeftovers: the cache folder is a volume that outlives a
// container restart and may be shared by several hub processes, and a
// cache's index lives in memory. New removes what processes that are gone
// left (the folders whose lock nobody holds, and jars and partial
// downloads older versions wrote into the folder itself), and only that:
// a live process's folder stays.
func TestNewClearsLeftovers(t *testing.T) {
	jar := []byte("PK\x03\x04 a jar of an earlier run")
	for _, tc := range []struct {
		name  string
		make  func(t *testing.T, dir string) string // returns the path checked
		stays bool
	}{
		{"an older version's jar", file(digest(jar) + ".jar"), false},
		{"an older version's partial download", file("fetch-123456.jar"), false},
		{"notes", file("notes.txt"), true},
		{"a jar not named by its digest", file("short.jar"), true},
		{"a backup", file(digest(jar) + ".jar.bak"), true},
		{"the folder of a process that is gone", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "process-77-1234", lockName), nil)
			write(t, filepath.Join(dir, "process-77-1234", digest(jar)+".jar"), jar)
			return filepath.Join(dir, "process-77-1234")
		}, false},
		{"a folder whose process died before its lock file", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "process-78-1234", "fetch-1.jar"), jar)
			return filepath.Join(dir, "process-78-1234")
		}, false},
		{"the folder of a live process", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "process-79-1234", digest(jar)+".jar"), jar)
			holdLock(t, filepath.Join(dir, "process-79-1234", lockName))
			return filepath.Join(dir, "process-79-1234", digest(jar)+".jar")
		}, true},
		{"another folder", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "jars", digest(jar)+".jar"), jar)
			return filepath.Join(dir, "jars", digest(jar)+".jar")
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(t)
			path := tc.make(t, o.CacheDir)
			fetcher(t, o)
			_, err := os.Stat(path)
			if stays := err == nil; stays != tc.stays {
				t.Errorf("%s stays after New: %v (stat: %v), want %v", path, stays, err, tc.stays)
			}
		})
	}
}

// file makes a file name in the cache folder itself.
func file(name string) func(*testing.T, string) string {
	return func(t *testing.T, dir string) string {
		path := filepath.Join(dir, name)
		write(t, path, []byte("PK\x03\x04"))
		return path
	}
}

// TestProcessesShareTheFolder: hub processes on one machine (the
// sandbox's replicas) share --jar-cache-dir. A process starting leaves the
// jars of the live ones in place (they fetch nothing again), one process
// dropping a jar from its cache leaves another's copy, and the folder of a
// process that died (its lock released, as the kernel does) is removed by
// the next start. Two Fetchers stand for two processes: their locks are
// separate opens of separate files, which flock treats as two processes'.
func TestProcessesShareTheFolder(t *testing.T) {
	a, b := bytes.Repeat([]byte("a"), 100), bytes.Repeat([]byte("b"), 100)
	srv := newArtifacts(t, map[string][]byte{"a.jar": a, "b.jar": b})
	o := testOptions(t)
	o.CacheSize = 150 // one jar
	first, second := fetcher(t, o), fetcher(t, o)
	fetch := func(f *Fetcher, name string) Jar {
		t.Helper()
		jar, err := f.Fetch(context.Background(), srv.URL+"/jars/"+name, nil)
		if err != nil {
			t.Fatal(err)
		}
		return jar
	}
	firstA, secondA := fetch(first, "a.jar"), fetch(second, "a.jar")

	fetcher(t, o) // a third process starts
	for _, jar := range []Jar{firstA, secondA} {
		if got, err := os.ReadFile(jar.Path); err != nil || !bytes.Equal(got, a) {
			t.Errorf("a live process's jar %s after another process started: %q, %v", jar.Path, got, err)
		}
	}
	before := srv.requests.Load()
	fetch(first, "a.jar")
	fetch(second, "a.jar")
	if n := srv.requests.Load() - before; n != 0 {
		t.Errorf("%d jars fetched again after another process started, want none", n)
	}

	fetch(first, "b.jar") // over the first's cache size: it drops a
	if got, err := os.ReadFile(secondA.Path); err != nil || !bytes.Equal(got, a) {
		t.Errorf("the second's jar after the first dropped the same jar: %q, %v", got, err)
	}

	first.folder.lock.Close() // the first process dies, its files left
	fetcher(t, o)
	if _, err := os.Stat(first.folder.path); !os.IsNotExist(err) {
		t.Errorf("the folder of a process that died is still there after a start (stat: %v)", err)
	}
	if _, err := os.Stat(secondA.Path); err != nil {
		t.Errorf("a live process's jar after a start: %v", err)
	}
}

// TestNewWaitsForTheSetupLockBounded: a process that holds the cache
// folder's setup lock (others hold it only while they set up) makes New
// fail after a while, naming the lock file, rather than wait for ever.
func TestNewWaitsForTheSetupLockBounded(t *testing.T) {
	o := testOptions(t)
	holdLock(t, filepath.Join(o.CacheDir, setupLockName))
	defer func(wait time.Duration) { setupWait = wait }(setupWait)
	setupWait = 100 * time.Millisecond
	start := time.Now()
	_, err := New(o)
	if err == nil || !strings.Contains(err.Error(), setupLockName) || time.Since(start) < setupWait {
		t.Fatalf("New with the setup lock held: %v after %s; want an error naming %s after %s", err, time.Since(start), setupLockName, setupWait)
	}
}
