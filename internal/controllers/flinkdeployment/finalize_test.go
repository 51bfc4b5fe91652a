package flinkdeployment

import "testing"

func TestBoundedList(t *testing.T) {
	for _, tc := range []struct {
		items []string
		want  string
	}{
		{nil, ""},
		{[]string{"a", "b"}, "a, b"},
		{[]string{"a", "b", "c", "d", "e"}, "a, b, c, d, e"},
		{[]string{"a", "b", "c", "d", "e", "f", "g"}, "a, b, c, d, e and 2 more"},
	} {
		if got := boundedList(tc.items); got != tc.want {
			t.Errorf("boundedList(%v) = %q, want %q", tc.items, got, tc.want)
		}
	}
}
