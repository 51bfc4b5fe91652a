package certs

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/log"
)

// File names in a cert-manager Certificate's Secret.
const (
	CertFile = "tls.crt"
	KeyFile  = "tls.key"
	CAFile   = "ca.crt"
)

// Files reads the certificate, its key and the CA from a folder (a mounted
// cert-manager Secret) and reloads them when they change.
type Files struct {
	state
	dir      string
	interval time.Duration
	last     [3][]byte
}

// NewFiles reads dir every interval.
func NewFiles(dir string, interval time.Duration) *Files {
	return &Files{state: newState(), dir: dir, interval: interval}
}

// NeedLeaderElection implements manager.LeaderElectionRunnable.
func (f *Files) NeedLeaderElection() bool { return false }

// Start loads the files until ctx ends.
func (f *Files) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("webhook-certs")
	every(ctx, f.interval, func() {
		if err := f.Load(); err != nil {
			logger.Info("cannot load the webhook certificate; will retry", "dir", f.dir, "error", err.Error())
		}
	})
	return nil
}

// Load reads the files once; unchanged files are not parsed again. Its
// error is ReadyzCheck's reason until a load works.
func (f *Files) Load() (err error) {
	defer func() { f.note(err) }()
	var now [3][]byte
	for i, name := range []string{CertFile, KeyFile, CAFile} {
		b, err := os.ReadFile(filepath.Join(f.dir, name))
		if err != nil {
			return err
		}
		now[i] = b
	}
	if f.current() != nil && bytes.Equal(now[0], f.last[0]) && bytes.Equal(now[1], f.last[1]) && bytes.Equal(now[2], f.last[2]) {
		return nil
	}
	cert, err := tls.X509KeyPair(now[0], now[1])
	if err != nil {
		return fmt.Errorf("%s/%s: %w", f.dir, CertFile, err)
	}
	if len(bytes.TrimSpace(now[2])) == 0 {
		return fmt.Errorf("%s/%s is empty", f.dir, CAFile)
	}
	f.last = now
	f.set(&cert, now[2])
	return nil
}
