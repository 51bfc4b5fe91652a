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
	// CacheDir holds the fetched jars.
	CacheDir string
	// CacheSize is the most bytes of jars kept; the least recently used
	// go first (the jar just fetched always stays).
	CacheSize int64
	// AllowPrivateNetworks lets fetches reach loopback and private
	// addresses (an artifact server inside the cluster).
	AllowPrivateNetworks bool
}

// DefaultOptions are 256 MiB jars, 2 minutes a fetch, a 2 GiB cache in the
// temporary folder, public addresses only.
func DefaultOptions() Options {
	return Options{MaxSize: 256 << 20, Timeout: 2 * time.Minute, CacheDir: filepath.Join(os.TempDir(), "flink-hub-jars"), CacheSize: 2 << 30}
}

// BindFlags registers the options as flags of fs, with o's values as
// defaults.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.Int64Var(&o.MaxSize, "jar-fetch-max-size", o.MaxSize, "largest FlinkSessionJob jar the hub fetches, in bytes")
	fs.DurationVar(&o.Timeout, "jar-fetch-timeout", o.Timeout, "deadline of one jar fetch")
	fs.StringVar(&o.CacheDir, "jar-cache-dir", o.CacheDir, "folder of the fetched jars")
	fs.Int64Var(&o.CacheSize, "jar-cache-size", o.CacheSize, "most bytes of fetched jars kept")
	fs.BoolVar(&o.AllowPrivateNetworks, "jar-fetch-allow-private-networks", o.AllowPrivateNetworks, "let jar fetches reach loopback and private addresses (an artifact server inside the cluster)")
}

// Validate refuses sizes and a timeout that are not positive, and an
// empty cache folder.
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
	return errors.Join(errs...)
}
