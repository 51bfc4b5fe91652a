package memberconfig

import (
	"encoding/base64"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

func TestTokenExpiry(t *testing.T) {
	jwt := func(payload string) string {
		enc := base64.RawURLEncoding.EncodeToString
		return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(payload)) + ".c2lnbmF0dXJl"
	}
	cases := []struct {
		name  string
		token string
		want  time.Time
	}{
		{"exp", jwt(`{"iss":"k8s","exp":1900000000}`), time.Unix(1900000000, 0)},
		{"fractional exp", jwt(`{"exp":1900000000.5}`), time.Unix(1900000000, 0)},
		{"no exp", jwt(`{"iss":"k8s"}`), time.Time{}},
		{"exp not a number", jwt(`{"exp":"tomorrow"}`), time.Time{}},
		{"exp out of range", jwt(`{"exp":1e300}`), time.Time{}},
		{"payload not JSON", jwt(`not json`), time.Time{}},
		{"not base64", "a.%%%.c", time.Time{}},
		{"opaque token", "abcdef.0123456789abcdef", time.Time{}},
		{"no token", "", time.Time{}},
	}
	for _, tc := range cases {
		got, ok := TokenExpiry(&rest.Config{BearerToken: tc.token})
		if ok != !tc.want.IsZero() || !got.Equal(tc.want) {
			t.Errorf("%s: TokenExpiry = %v, %v; want %v", tc.name, got, ok, tc.want)
		}
	}
}
