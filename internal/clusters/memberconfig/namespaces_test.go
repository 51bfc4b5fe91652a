package memberconfig

import (
	"slices"
	"testing"
)

func TestParseNamespaces(t *testing.T) {
	cases := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: nil},
		{in: " , ", want: nil},
		{in: "a", want: []string{"a"}},
		{in: "b, a,b", want: []string{"a", "b"}},
		{in: "A", wantErr: true},
		{in: "a,team.x", wantErr: true},
		{in: "a,kube-system", wantErr: true},
	}
	for _, tc := range cases {
		got, err := ParseNamespaces(tc.in)
		if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
			t.Errorf("ParseNamespaces(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
		if err != nil && !IsInvalid(err) {
			t.Errorf("ParseNamespaces(%q): error %v is not an InvalidError", tc.in, err)
		}
	}
}
