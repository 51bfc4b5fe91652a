package flinkconf

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestParseMap(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    map[string]string
		wantErr string
	}{
		{in: "", want: map[string]string{}},
		{in: "a:1, b : 2", want: map[string]string{"a": "1", "b": "2"}},
		{in: "a:1,a:2", want: map[string]string{"a": "2"}},
		{in: "a:", want: map[string]string{"a": ""}},
		// A whole entry quoted, its value quoted inside with doubled quotes.
		{in: `'example.com/note:''a, b: c'''`, want: map[string]string{"example.com/note": "a, b: c"}},
		{in: `"k:v,w",x:y`, want: map[string]string{"k": "v,w", "x": "y"}},
		{in: `"k:'v,w'",x:y`, want: map[string]string{"k": "v,w", "x": "y"}},
		{in: "a:b:c", wantErr: "not key:value"},
		{in: "novalue", wantErr: "not key:value"},
		{in: ":v", wantErr: "not key:value"},
		{in: "'open", wantErr: "not closed"},
		{in: "'a:b'c,d:e", wantErr: "quote the whole item"},
	} {
		got, err := ParseMap(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseMap(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !maps.Equal(got, tc.want) {
			t.Errorf("ParseMap(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseListAndMapList(t *testing.T) {
	if got, err := ParseList(" a; b;;'c;d' "); err != nil || !slices.Equal(got, []string{"a", "b", "c;d"}) {
		t.Errorf("ParseList = %q, %v", got, err)
	}
	got, err := ParseMapList("key:a,effect:NoSchedule;key:b")
	if err != nil || len(got) != 2 || got[0]["effect"] != "NoSchedule" || got[1]["key"] != "b" {
		t.Errorf("ParseMapList = %v, %v", got, err)
	}
	if _, err := ParseList(strings.Repeat("a;", maxStructuredItems+1)); err == nil {
		t.Error("a list of more items than the bound was read")
	}
}
