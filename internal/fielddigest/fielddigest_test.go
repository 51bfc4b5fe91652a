package fielddigest

import "testing"

// TestOf: equal sequences digest alike; a different split of the same
// text, another order or another field does not.
func TestOf(t *testing.T) {
	base := Of("ab", "c")
	if Of("ab", "c") != base {
		t.Error("equal sequences differ")
	}
	for name, d := range map[string]Digest{
		"another split": Of("a", "bc"),
		"another order": Of("c", "ab"),
		"one more":      Of("ab", "c", ""),
		"joined":        Of("abc"),
	} {
		if d == base {
			t.Errorf("%s digests like the original", name)
		}
	}
}
