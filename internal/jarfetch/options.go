package jarfetch

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"time"
)

// Options bound the hub's jar fetches.
type Options struct {
	// MaxSize is the largest jar fetched, in bytes.
	MaxSize int64
	// Timeout bounds one whole fetch.
	Timeout time.Duration
	// CacheDir holds the fetched jars: each Fetcher keeps its own in a
	// locked folder of its own inside it, so several hub processes may
	// share it.
	CacheDir string
	// CacheSize is the most bytes of jars kept; the least recently used
	// go first (the jar just fetched always stays).
	CacheSize int64
	// Concurrency is the most downloads at once; others wait their turn.
	// With MaxSize and CacheSize it bounds the cache folder: at most
	// CacheSize + (Concurrency+1) × MaxSize bytes.
	Concurrency int
	// AllowPrivateNetworks lets fetches reach loopback and private
	// addresses (an artifact server inside the cluster).
	AllowPrivateNetworks bool
}

// DefaultOptions are 256 MiB jars, 2 minutes a fetch, two downloads at
// once, a 2 GiB cache in the temporary folder, public addresses only.
func DefaultOptions() Options {
	return Options{MaxSize: 256 << 20, Timeout: 2 * time.Minute, CacheDir: filepath.Join(os.TempDir(), "flink-hub-jars"), CacheSize: 2 << 30, Concurrency: 2}
}

// BindFlags registers the options as flags of fs, with o's values as
// defaults.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.Int64Var(&o.MaxSize, "jar-fetch-max-size", o.MaxSize, "largest FlinkSessionJob jar the hub fetches, in bytes")
	fs.DurationVar(&o.Timeout, "jar-fetch-timeout", o.Timeout, "deadline of one jar fetch")
	fs.IntVar(&o.Concurrency, "jar-fetch-concurrency", o.Concurrency, "most jar downloads at once; the cache folder holds at most --jar-cache-size + (this + 1) × --jar-fetch-max-size bytes")
	fs.StringVar(&o.CacheDir, "jar-cache-dir", o.CacheDir, "folder of the fetched jars, which hub processes on one machine may share: each keeps its jars in a folder of its own there (process-<pid>-<random>, locked while it runs); at start a process removes the folders of processes that are gone and jars older versions left in the folder itself")
	fs.Int64Var(&o.CacheSize, "jar-cache-size", o.CacheSize, "most bytes of fetched jars kept")
	fs.BoolVar(&o.AllowPrivateNetworks, "jar-fetch-allow-private-networks", o.AllowPrivateNetworks, "let jar fetches reach loopback and private addresses (an artifact server inside the cluster)")
}

// Validate refuses sizes, a timeout and a concurrency that are not
// positive, and an empty cache folder.
func (o Options) Validate() error {
	var errs []error
	if o.MaxSize <= 0 {
		errs = append(errs, errors.New("--jar-fetch-max-size must be positive"))
	}
	if o.Timeout <= 0 {
		errs = append(errs, errors.New("--jar-fetch-timeout must be positive"))
	}
	if o.CacheDir == "" {
		errs = append(errs, errors.New("--jar-cache-dir must not be empty"))
	}
	if o.CacheSize <= 0 {
		errs = append(errs, errors.New("--jar-cache-size must be positive"))
	}
	if o.Concurrency < 1 {
		errs = append(errs, errors.New("--jar-fetch-concurrency must be at least 1"))
	}
	return errors.Join(errs...)
}
