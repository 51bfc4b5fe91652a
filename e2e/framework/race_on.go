//go:build race

package framework

// raceEnabled reports whether this test binary was built with -race; Build
// then builds the programs it runs with -race too.
const raceEnabled = true
