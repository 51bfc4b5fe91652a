package flinkconf

import (
	"strings"
	"testing"
)

func TestMemoryBytes(t *testing.T) {
	cases := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"2048m", 2048 << 20, false},
		{"2048 mb", 2048 << 20, false},
		{"1g", 1 << 30, false},
		{"1024", 1024, false},
		{"2Gi", 2 << 30, false},
		{"2GB", 2 << 30, false}, // Flink's gb is binary
		{"1.5Gi", 3 << 29, false},
		{"1.5G", 1_500_000_000, false},
		{"512Mi", 512 << 20, false},
		{"", 0, true},
		{"lots", 0, true},
		{"-1g", 0, true},
		{"4t", 4 << 40, false},
		{"4194304t", 1 << 62, false},
		// Over the cap in Flink's syntax: refused, never read again as a
		// Kubernetes quantity (where k means 1000, not 1024).
		{"4503599627370497k", 0, true},
		{"6835937500000000k", 0, true},
		{"9223372036854775807", 0, true},
		{"7E", 0, true}, // found by FuzzMemoryBytes
	}
	for _, tc := range cases {
		got, err := MemoryBytes(tc.in)
		if tc.wantErr {
			if err == nil {
				t.Errorf("MemoryBytes(%q) = %d, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("MemoryBytes(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestFormatMemory(t *testing.T) {
	cases := map[int64]string{2048 << 20: "2g", 1536 << 20: "1536m", 1000: "1000b", 3 << 10: "3k", 1 << 40: "1t"}
	for in, want := range cases {
		if got := FormatMemory(in); got != want {
			t.Errorf("FormatMemory(%d) = %q, want %q", in, got, want)
		}
	}
}

// TestHostileQuantitiesReturnAtOnce: resource.ParseQuantity spins for as
// long as a quantity's exponent says ("92E3372036854775807", found by
// FuzzMemoryBytes, never returns). Every tenant quantity goes through
// ParseQuantity, which refuses such texts before parsing; the test's
// deadline is the go test timeout, since a regression hangs.
func TestHostileQuantitiesReturnAtOnce(t *testing.T) {
	for _, s := range []string{"92E3372036854775807", "1e-9999999", "1E+31", "1e31", strings.Repeat("9", 100) + "Gi"} {
		if _, err := ParseQuantity(s); err == nil {
			t.Errorf("ParseQuantity(%q) accepted it", s)
		}
		if _, err := MemoryBytes(s); err == nil {
			t.Errorf("MemoryBytes(%q) accepted it", s)
		}
		if _, err := parseQuantity(s); err == nil {
			t.Errorf("parseQuantity(%q) accepted it", s)
		}
	}
	for s, want := range map[string]int64{"1e3": 1000, "2E6": 2_000_000, "7E": 7_000_000_000_000_000_000, "1e18": 1_000_000_000_000_000_000} {
		q, err := ParseQuantity(s)
		if err != nil || q.Value() != want {
			t.Errorf("ParseQuantity(%q) = %v, %v; want %d", s, q.String(), err, want)
		}
	}
}
