package flinkconf

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// flinkMemory matches Flink's MemorySize syntax: a whole number and an
// optional binary unit (b, k, kb, m, mb, g, gb, t, tb and long forms).
var flinkMemory = regexp.MustCompile(`^\s*(\d+)\s*([a-zA-Z]*)\s*$`)

var flinkUnits = map[string]int64{
	"": 1, "b": 1, "bytes": 1,
	"k": 1 << 10, "kb": 1 << 10, "kibibytes": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mebibytes": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gibibytes": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "tebibytes": 1 << 40,
}

// MemoryBytes parses a memory size as the Apache operator does: first as a
// Flink memory size ("2048m" is 2048 MiB), else as a Kubernetes quantity
// ("2Gi", "1.5G", with a trailing B or i tolerated).
func MemoryBytes(s string) (int64, error) {
	if m := flinkMemory.FindStringSubmatch(s); m != nil {
		if unit, ok := flinkUnits[strings.ToLower(m[2])]; ok {
			n, err := strconv.ParseInt(m[1], 10, 64)
			if err != nil || n > maxMemory/unit {
				// Read as a Kubernetes quantity instead, "k" would mean
				// 1000, not 1024: a different size, not a refusal.
				return 0, outOfRange(s)
			}
			if n > 0 {
				return n * unit, nil
			}
		}
	}
	q := strings.ToUpper(strings.Join(strings.Fields(s), ""))
	q = strings.TrimSuffix(q, "B")
	if strings.HasSuffix(q, "I") {
		q = strings.TrimSuffix(q, "I") + "i"
	}
	// Kubernetes' decimal suffixes are k (lower case) and M, G, T...
	q = strings.Replace(q, "K", "k", 1)
	if strings.HasSuffix(q, "ki") {
		q = strings.TrimSuffix(q, "ki") + "Ki"
	}
	qty, err := ParseQuantity(q)
	if err != nil || qty.Sign() <= 0 {
		return 0, fmt.Errorf("%q is neither a Flink memory size (e.g. 2048m) nor a Kubernetes quantity (e.g. 2Gi)", s)
	}
	v := qty.AsDec().UnscaledBig()
	scale := qty.AsDec().Scale()
	bytes := new(big.Int).Set(v)
	for ; scale > 0; scale-- {
		bytes.Quo(bytes, big.NewInt(10))
	}
	for ; scale < 0; scale++ {
		bytes.Mul(bytes, big.NewInt(10))
	}
	if !bytes.IsInt64() || bytes.Sign() <= 0 || bytes.Int64() > maxMemory {
		return 0, outOfRange(s)
	}
	return bytes.Int64(), nil
}

// maxMemory is the largest memory size read, 4 EiB: sums of a few sizes
// stay within int64.
const maxMemory = int64(1) << 62

func outOfRange(s string) error {
	return fmt.Errorf("%q is out of range (at most %s)", s, FormatMemory(maxMemory))
}

// FormatMemory renders bytes in Flink's syntax with the largest exact unit.
func FormatMemory(bytes int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"t", 1 << 40}, {"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
		if bytes%u.size == 0 {
			return strconv.FormatInt(bytes/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(bytes, 10) + "b"
}

// parseQuantity parses a CPU amount given as a Kubernetes quantity.
func parseQuantity(s string) (float64, error) {
	q, err := ParseQuantity(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a quantity", s)
	}
	if q.Sign() <= 0 {
		return 0, fmt.Errorf("%q must be positive", s)
	}
	return q.AsApproximateFloat64(), nil
}
