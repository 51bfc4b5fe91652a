package flinkconf

import (
	"fmt"
	"regexp"
	"strconv"

	"k8s.io/apimachinery/pkg/api/resource"
)

// maxQuantityLength bounds the text of a quantity: no size or CPU amount
// needs more.
const maxQuantityLength = 64

// maxExponent bounds a quantity's decimal exponent (1e18 is an exabyte).
const maxExponent = 30

// exponent finds a decimal exponent (2e6, 1E-3) at the end of a quantity;
// a bare E is the exa suffix, not an exponent.
var exponent = regexp.MustCompile(`[eE]([+-]?\d+)$`)

// ParseQuantity is resource.ParseQuantity for tenant text. resource's
// parser spins for as long as its exponent says: "9e3372036854775807"
// never returns and "1e-9999999" takes a second, so a FlinkDeployment
// could hold a reconcile worker or a webhook call for ever. Long texts
// and exponents beyond maxExponent are refused before it runs.
func ParseQuantity(s string) (resource.Quantity, error) {
	if len(s) > maxQuantityLength {
		return resource.Quantity{}, fmt.Errorf("%q is longer than %d characters", s[:maxQuantityLength]+"...", maxQuantityLength)
	}
	if m := exponent.FindStringSubmatch(s); m != nil {
		if e, err := strconv.Atoi(m[1]); err != nil || e > maxExponent || e < -maxExponent {
			return resource.Quantity{}, fmt.Errorf("%q has an exponent beyond ±%d", s, maxExponent)
		}
	}
	return resource.ParseQuantity(s)
}
