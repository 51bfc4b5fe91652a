package health

import (
	"testing"
	"time"
)

func TestDebouncer(t *testing.T) {
	up := Result{Ready: true, Reason: "Reachable"}
	down := Result{Reason: "Unreachable"}
	refused := Result{Reason: "Forbidden"}
	t0 := time.Unix(1000, 0)
	type step struct {
		after    time.Duration // since t0
		revision string
		in       Result
		want     Result
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"first result is reported at once", []step{{0, "a", down, down}}},
		{"failure shorter than the window is hidden", []step{
			{0, "a", up, up}, {1 * time.Second, "a", down, up}, {29 * time.Second, "a", down, up}, {30 * time.Second, "a", up, up},
			{31 * time.Second, "a", down, up},
		}},
		{"failure lasting the window is reported", []step{
			{0, "a", up, up}, {1 * time.Second, "a", down, up}, {30 * time.Second, "a", down, up}, {31 * time.Second, "a", down, down},
		}},
		{"recovery is debounced too", []step{
			{0, "a", down, down}, {1 * time.Second, "a", up, down}, {31 * time.Second, "a", up, up},
		}},
		{"same Ready value updates the reason at once", []step{
			{0, "a", down, down}, {1 * time.Second, "a", refused, refused},
		}},
		{"a new revision restarts the window", []step{
			{0, "a", up, up}, {1 * time.Second, "a", down, up}, {20 * time.Second, "b", down, up},
			{49 * time.Second, "b", down, up}, {50 * time.Second, "b", down, down},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDebouncer(30 * time.Second)
			for i, s := range tc.steps {
				if got := d.Observe("m", s.revision, s.in, t0.Add(s.after)); got != s.want {
					t.Fatalf("step %d (+%s, %s): reported %+v, want %+v", i, s.after, s.in.Reason, got, s.want)
				}
			}
		})
	}
}

func TestDebouncerForget(t *testing.T) {
	d := NewDebouncer(time.Hour)
	now := time.Now()
	d.Observe("m", "a", Result{Ready: true}, now)
	d.Forget("m")
	if got := d.Observe("m", "a", Result{Reason: "Unreachable"}, now); got.Ready {
		t.Fatalf("after Forget the first result must be reported, got %+v", got)
	}
}

func TestDebouncerSeed(t *testing.T) {
	now := time.Now()
	reachable := Result{Ready: true, Reason: "Reachable"}
	unreachable := Result{Reason: "Unreachable"}
	for _, tc := range []struct {
		name     string
		observed *Result // before the seed
		seed     *Result
		want     Result // reported for an unreachable probe after the seed
	}{
		{"seeded ready: a failure waits for the window", nil, &reachable, reachable},
		{"nothing seeded: the first result is reported", nil, nil, unreachable},
		{"a state beats the seed", &unreachable, &reachable, unreachable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDebouncer(time.Hour)
			if tc.observed != nil {
				d.Observe("m", "a", *tc.observed, now)
			}
			d.Seed("m", "a", tc.seed)
			if got := d.Observe("m", "a", unreachable, now); got != tc.want {
				t.Errorf("reported %+v, want %+v", got, tc.want)
			}
		})
	}
}
