package flinkconf

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"6h", 6 * time.Hour, ""},
		{"10 min", 10 * time.Minute, ""},
		{"10m", 10 * time.Minute, ""},
		{" 30 SECONDS ", 30 * time.Second, ""},
		{"1d", 24 * time.Hour, ""},
		{"2 days", 48 * time.Hour, ""},
		{"500", 500 * time.Millisecond, ""},
		{"250ms", 250 * time.Millisecond, ""},
		{"7µs", 7 * time.Microsecond, ""},
		{"9 nanos", 9 * time.Nanosecond, ""},
		{"0 s", 0, ""},
		{"", 0, "does not start with a whole number"},
		{"h", 0, "does not start with a whole number"},
		{"-5 s", 0, "does not start with a whole number"},
		{"1.5h", 0, `unknown time unit ".5h"`},
		{"1h30m", 0, `unknown time unit "h30m"`},
		{"10 fortnights", 0, `unknown time unit "fortnights"`},
		{"0 0 * * * ?", 0, "unknown time unit"},
		{"99999999999999999999 s", 0, "too large"},
		{"9999999999999 d", 0, "too large"},
	} {
		got, err := ParseDuration(tc.in)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%q: error %v, want one containing %q", tc.in, err, tc.wantErr)
		case got != tc.want:
			t.Errorf("%q = %s, want %s", tc.in, got, tc.want)
		}
	}
}
