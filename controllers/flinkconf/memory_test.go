package flinkconf

import "testing"

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
