package flinkconf

import (
	"maps"
	"strings"
	"testing"
)

// TestParallelismOverrides: the overrides are read as Flink reads them
// (spaces around unquoted tokens trimmed, quotes removed), and what Flink
// would ignore or refuse is refused with a reason: an id that is not a job
// vertex id, one in upper case (Flink looks overrides up by the id as it
// writes it, in lower case), an id given twice (Flink cannot read the
// value and the job does not start), a parallelism out of 1..32768.
func TestParallelismOverrides(t *testing.T) {
	const a, b = "bc764cd8ddf7a0cff126f51c16239658", "0a448493b4782967b150582570326227"
	cases := []struct {
		name, value string
		want        map[string]int32
		wantErr     string
	}{
		{"unset", "", map[string]int32{}, ""},
		{"two", " " + a + " : 4 ," + b + ":1", map[string]int32{a: 4, b: 1}, ""},
		{"quoted", `'` + a + `:8'`, map[string]int32{a: 8}, ""},
		{"not a vertex id", "jobs/x:4", nil, `"jobs/x" is not a job vertex id`},
		{"upper case", strings.ToUpper(a) + ":4", nil, "job vertex id BC764CD8DDF7A0CFF126F51C16239658 is not in lower case: Flink matches the ids as it writes them and would ignore this override (write " + a + ")"},
		{"given twice", a + ":4," + b + ":2," + a + ":8", nil, "job vertex " + a + " is given twice"},
		{"given twice, same value", a + ":4," + a + ":4", nil, "is given twice"},
		{"negative", a + ":-1", nil, "is not a whole number from 1 to 32768"},
		{"zero", a + ":0", nil, "is not a whole number from 1 to 32768"},
		{"too large", a + ":32769", nil, "is not a whole number from 1 to 32768"},
		{"beyond int32", a + ":99999999999", nil, "is not a whole number from 1 to 32768"},
		{"not a number", a + ":four", nil, "is not a whole number from 1 to 32768"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParallelismOverrides(map[string]string{KeyParallelismOverrides: tc.value})
			switch {
			case tc.wantErr == "" && (err != nil || !maps.Equal(got, tc.want)):
				t.Errorf("ParallelismOverrides(%q) = %v, %v; want %v", tc.value, got, err, tc.want)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("ParallelismOverrides(%q) = %v, %v; want the error %q", tc.value, got, err, tc.wantErr)
			}
		})
	}
}
