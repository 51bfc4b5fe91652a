package flinkconf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// durationUnits maps Flink's time unit labels (singular and plural) to Go
// units, as Flink's TimeUtils accepts them.
var durationUnits = map[string]time.Duration{}

func init() {
	for unit, labels := range map[time.Duration][]string{
		24 * time.Hour:   {"d", "day", "days"},
		time.Hour:        {"h", "hour", "hours"},
		time.Minute:      {"m", "min", "mins", "minute", "minutes"},
		time.Second:      {"s", "sec", "secs", "second", "seconds"},
		time.Millisecond: {"ms", "milli", "millis", "millisecond", "milliseconds"},
		time.Microsecond: {"µs", "micro", "micros", "microsecond", "microseconds"},
		time.Nanosecond:  {"ns", "nano", "nanos", "nanosecond", "nanoseconds"},
	} {
		for _, label := range labels {
			durationUnits[label] = unit
		}
	}
}

// ParseDuration reads a duration as Flink's configuration does: a whole
// number, optional spaces, and an optional unit label ("10 min", "6h",
// "30 s", "1d"); a bare number is milliseconds.
func ParseDuration(text string) (time.Duration, error) {
	s := strings.TrimSpace(text)
	digits := len(s) - len(strings.TrimLeft(s, "0123456789"))
	if digits == 0 {
		return 0, fmt.Errorf("duration %q does not start with a whole number", text)
	}
	n, err := strconv.ParseInt(s[:digits], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("duration %q: %s is too large", text, s[:digits])
	}
	label := strings.ToLower(strings.TrimSpace(s[digits:]))
	unit := time.Millisecond
	if label != "" {
		var ok bool
		if unit, ok = durationUnits[label]; !ok {
			return 0, fmt.Errorf("duration %q: unknown time unit %q (use d, h, min, s, ms, µs or ns)", text, label)
		}
	}
	if n > math.MaxInt64/int64(unit) {
		return 0, fmt.Errorf("duration %q is too large", text)
	}
	return time.Duration(n) * unit, nil
}
