package flinkrest

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUploadTimeoutScalesWithTheJar: a jar upload's deadline is the
// client's timeout plus the jar's size at the slowest upload rate, the
// size read from the reader or, when it cannot say, the largest jar's.
func TestUploadTimeoutScalesWithTheJar(t *testing.T) {
	file := filepath.Join(t.TempDir(), "job.jar")
	if err := os.WriteFile(file, make([]byte, 3<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := &client{timeout: 10 * time.Second, uploadRate: 1 << 20}
	cases := []struct {
		name string
		jar  io.Reader
		want time.Duration
	}{
		{"bytes.Reader: its length", bytes.NewReader(make([]byte, 2<<20)), 12 * time.Second},
		{"strings.Reader: its length", strings.NewReader(strings.Repeat("x", 1<<19)), 10*time.Second + 500*time.Millisecond},
		{"a file: its size", f, 13 * time.Second},
		{"a reader that cannot say: the largest jar", io.MultiReader(bytes.NewReader(nil)), 10*time.Second + MaxUploadBytes/(1<<20)*time.Second},
	}
	for _, tc := range cases {
		if got := c.uploadTimeout(tc.jar); got != tc.want {
			t.Errorf("%s: uploadTimeout = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestUploadBudget: the budget is the timeout plus the jar at the rate,
// bounded for the largest jar at the lowest rate the flag accepts.
func TestUploadBudget(t *testing.T) {
	cases := []struct {
		size    int64
		timeout time.Duration
		rate    int64
		want    time.Duration
	}{
		{0, 10 * time.Second, MinUploadRate, 10 * time.Second},
		{300 << 20, 10 * time.Second, MinUploadRate, 310 * time.Second},
		{MaxUploadBytes, 10 * time.Second, MinUploadRate, 266 * time.Second},
		{MaxUploadBytes, 10 * time.Second, MinUploadRateFloor, 10*time.Second + 4096*time.Second},
		{1 << 20, time.Second, 512 << 10, 3 * time.Second},
	}
	for _, tc := range cases {
		if got := UploadBudget(tc.size, tc.timeout, tc.rate); got != tc.want {
			t.Errorf("UploadBudget(%d, %s, %d) = %s, want %s", tc.size, tc.timeout, tc.rate, got, tc.want)
		}
	}
}
