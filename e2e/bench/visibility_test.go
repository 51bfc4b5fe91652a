package main

import (
	"reflect"
	"testing"
	"time"
)

func TestVisibilityDelays(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	created := map[string]time.Time{"m1/ns/a": at(0), "m2/ns/b": at(100)}
	keys := map[string]bool{"m1/ns/a": true, "m2/ns/b": true}
	converged := map[string]time.Time{"m1/ns/a": at(5000), "m2/ns/b": at(6000)}
	s := &sightings{
		listed: map[string]map[string]time.Time{
			"hub-0": {"m1/ns/a": at(300), "m2/ns/b": at(50)}, // listed before the create call returned: 0
			"hub-1": {"m1/ns/a": at(2600), "m2/ns/b": at(400)},
		},
		running: map[string]map[string]time.Time{
			"hub-0": {"m1/ns/a": at(5200), "m2/ns/b": at(6100)},
			"hub-1": {"m1/ns/a": at(5100)},
		},
	}
	if got, want := s.missing(keys), []string{"hub-1: 0 of 2 not listed, 1 not listed STABLE and RUNNING"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("missing = %q, want %q", got, want)
	}
	s.running["hub-1"]["m2/ns/b"] = at(6700)
	if got := s.missing(keys); len(got) != 0 {
		t.Fatalf("missing = %q, want nothing", got)
	}

	var v Visibility
	v.summarize(s.delays(created, converged))
	want := Visibility{Observations: 8, P50Sec: 0.2, MaxSec: 2.6, Slowest: "hub-1: m1/ns/a created"}
	if v != want {
		t.Fatalf("summary = %+v, want %+v", v, want)
	}
}
