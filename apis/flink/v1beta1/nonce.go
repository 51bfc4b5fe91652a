package v1beta1

// NonceAsks reports whether a nonce now set to current, last reconciled
// as last, asks for its action: set to a new value. Unsetting it asks for
// nothing, as upstream's spec diff ignores a restartNonce or
// savepointRedeployNonce changed to null (onNullIgnore), so a tool that
// drops the field does not restart or redeploy the job.
func NonceAsks(current, last *int64) bool { return current != nil && !EqualNonce(current, last) }

// EqualNonce reports whether two nonces are the same: both unset, or both
// set to the same value. A nonce that changes asks for an action once.
func EqualNonce(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
