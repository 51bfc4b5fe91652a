// Package fielddigest digests a sequence of strings without ambiguity:
// each field is written with its length first, so that no two different
// sequences ("ab", "c" and "a", "bc") digest alike.
package fielddigest

import (
	"crypto/sha256"
	"fmt"
)

// Digest is a SHA-256 sum.
type Digest [sha256.Size]byte

// Of is the digest of fields, in their order.
func Of(fields ...string) Digest {
	h := sha256.New()
	for _, f := range fields {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	var d Digest
	h.Sum(d[:0])
	return d
}
