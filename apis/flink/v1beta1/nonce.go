package v1beta1

// EqualNonce reports whether two nonces are the same: both unset, or both
// set to the same value. A nonce that changes asks for an action once.
func EqualNonce(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
