package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		code     int
		stdout   []string
		stderrIn string
	}{
		{"version", []string{"--version"}, 0, []string{"flink-hub dev"}, ""},
		{"flags", nil, 0, []string{"flink-hub dev", "-namespace", "-metrics-bind-address"}, ""},
		{"unknown flag", []string{"--bogus"}, 2, nil, "flag provided but not defined: -bogus"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(tc.args, &out, &errOut); code != tc.code {
				t.Fatalf("exit code %d, want %d (stderr %q)", code, tc.code, errOut.String())
			}
			for _, want := range tc.stdout {
				if !strings.Contains(out.String(), want) {
					t.Errorf("stdout %q lacks %q", out.String(), want)
				}
			}
			if !strings.Contains(errOut.String(), tc.stderrIn) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tc.stderrIn)
			}
		})
	}
}
