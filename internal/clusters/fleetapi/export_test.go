package fleetapi

import "context"

// NewAuth, Check and Waiting give the external tests (which can use
// e2e/framework, unlike this package's own) the token review rules.
func NewAuth(r func(ctx context.Context, token string) (int, string)) *auth {
	return newAuth(r, DefaultTokenReviewsPerSecond)
}

// Check is check.
func (a *auth) Check(ctx context.Context, token string) (int, string) { return a.check(ctx, token) }

// Waiting is how many requests wait for a review.
func (a *auth) Waiting() int32 { return a.waiting.Load() }
