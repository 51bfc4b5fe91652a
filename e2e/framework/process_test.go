package framework

import (
	"strings"
	"testing"
	"time"
)

// TestChildDataRace runs a program with a data race the way tests run the
// hub: under `go test -race` it must fail, naming the race and its log;
// without -race it is an ordinary program that exits cleanly.
func TestChildDataRace(t *testing.T) {
	bin, err := Build("./e2e/framework/testdata/racy")
	if err != nil {
		t.Fatal(err)
	}
	p, err := StartProcess(t.TempDir(), "racy", bin)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Wait(time.Minute)
	switch {
	case raceEnabled && err == nil:
		t.Fatal("a program with a data race exited cleanly under -race")
	case raceEnabled && !strings.Contains(err.Error(), "data race") || raceEnabled && !strings.Contains(err.Error(), p.LogPath):
		t.Fatalf("exit error %q names neither the race nor the log", err)
	case !raceEnabled && err != nil:
		t.Fatalf("without -race: %v", err)
	}
}
