package memberconfig

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// TokenExpiry returns the expiry of cfg's bearer token when it is a JWT
// with an exp claim (ServiceAccount tokens from the TokenRequest API are).
// It decodes the payload only: the signature is the member's business, and
// the token never leaves this function.
func TokenExpiry(cfg *rest.Config) (time.Time, bool) {
	parts := strings.Split(cfg.BearerToken, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp *float64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Exp == nil {
		return time.Time{}, false
	}
	// Past year 9999 the conversion to int64 would not be meaningful.
	const maxExp = 253402300799 // 9999-12-31T23:59:59Z
	exp := *claims.Exp
	if !(exp > 0 && exp <= maxExp) {
		return time.Time{}, false
	}
	return time.Unix(int64(exp), 0).UTC(), true
}
