package jarfetch

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The names a Fetcher gives in the configured cache folder, which several
// hub processes on one machine may share.
const (
	// folderPrefix begins the name of a Fetcher's own folder:
	// process-<pid>-<random>.
	folderPrefix = "process-"
	// lockName is the lock file in a Fetcher's own folder, locked
	// exclusively (flock) while its Fetcher lives.
	lockName = "lock"
	// setupLockName is the lock file in the cache folder that a Fetcher
	// holds while it creates its own folder and removes dead ones, so no
	// Fetcher finds another's folder before its lock is taken.
	setupLockName = "setup.lock"
	// tempPrefix and tempPattern name downloads in progress.
	tempPrefix  = "fetch-"
	tempPattern = tempPrefix + "*.jar"
)

// setupWait bounds the wait for the setup lock, which other Fetchers hold
// only while they set up.
var setupWait = 30 * time.Second

// folder is a Fetcher's own folder inside the cache folder: only its
// Fetcher writes or removes files there, so a jar it counts is never
// removed by another hub process, nor one of theirs by it.
type folder struct {
	// path is the folder.
	path string
	// lock holds the exclusive flock on path/lock; the kernel releases it
	// when the process ends, however it ends.
	lock *os.File
}

// claimFolder creates and locks a folder of this Fetcher's own in dir
// (created if missing) and removes what processes that are gone left in
// dir: the folders whose lock nobody holds, and the jars and partial
// downloads older versions of the hub wrote into dir itself. A locked
// folder belongs to a live Fetcher and is left alone.
func claimFolder(dir string) (*folder, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	setup, err := lockSetup(filepath.Join(dir, setupLockName))
	if err != nil {
		return nil, err
	}
	defer setup.Close() // releases the setup lock
	if err := clearLeftovers(dir); err != nil {
		return nil, err
	}
	path, err := os.MkdirTemp(dir, fmt.Sprintf("%s%d-", folderPrefix, os.Getpid()))
	if err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(path, lockName), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		err = flock(lock)
		if err != nil {
			lock.Close()
		}
	}
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(path))
	}
	return &folder{path: path, lock: lock}, nil
}

// close removes the folder and then releases its lock.
func (f *folder) close() error {
	err := os.RemoveAll(f.path)
	return errors.Join(err, f.lock.Close())
}

// flock takes the exclusive lock of file without waiting; it fails with
// unix.EWOULDBLOCK while another open of the file (in this process or
// another) holds it.
func flock(file *os.File) error {
	for {
		err := unix.Flock(int(file.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// lockSetup opens and locks the setup lock file at path, waiting at most
// setupWait for another Fetcher to finish its setup.
func lockSetup(path string) (*os.File, error) {
	file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(setupWait)
	for {
		err := flock(file)
		switch {
		case err == nil:
			return file, nil
		case !errors.Is(err, unix.EWOULDBLOCK):
			file.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		case time.Now().After(deadline):
			file.Close()
			return nil, fmt.Errorf("another process has held %s for over %s; a hub process setting up its jar cache holds it for a moment only", path, setupWait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// clearLeftovers removes from dir, whose setup lock the caller holds, the
// folders of Fetchers that are gone and the files older versions of the
// hub wrote into dir itself: jars named by their digest and partial
// downloads. The index of a cache is in memory, so the files of a process
// that is gone (the folder is a volume that survives container restarts)
// would never be found again, nor counted or dropped: they would only fill
// the volume. Clearing rather than indexing them loses nothing, since the
// URLs they came from are unknown. Other files and folders are left
// alone.
func clearLeftovers(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		switch {
		case e.Type().IsRegular() && isCacheFile(e.Name()):
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		case e.IsDir() && strings.HasPrefix(e.Name(), folderPrefix):
			errs = append(errs, removeIfGone(path))
		}
	}
	return errors.Join(errs...)
}

// removeIfGone removes the Fetcher folder at path unless its lock is held.
// A folder without a lock file is gone too: a Fetcher creates its lock
// file holding the setup lock, so no live one lacks it.
func removeIfGone(path string) error {
	lock, err := os.Open(filepath.Join(path, lockName))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.RemoveAll(path)
	case err != nil:
		return err
	}
	defer lock.Close()
	switch err := flock(lock); {
	case errors.Is(err, unix.EWOULDBLOCK):
		return nil // a live Fetcher's
	case err != nil:
		return fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	return os.RemoveAll(path)
}

// isCacheFile reports whether name is a file a Fetcher writes: a jar
// named <sha256 hex>.jar, or a download in progress (tempPattern).
func isCacheFile(name string) bool {
	base, ok := strings.CutSuffix(name, ".jar")
	if !ok {
		return false
	}
	if strings.HasPrefix(base, tempPrefix) {
		return true
	}
	_, err := hex.DecodeString(base)
	return err == nil && len(base) == sha256.Size*2
}
