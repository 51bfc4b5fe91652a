package flinkconf

import "strings"

// sensitiveFragments are the key fragments Flink masks in its own logs and
// web UI (GlobalConfiguration.SENSITIVE_KEYS), and the jar fetch's HTTP
// headers (KeyArtifactHTTPHeader), which Flink does not mask but which
// hold credentials.
var sensitiveFragments = []string{"password", "secret", "fs.azure.account.key", "apikey", "api-key", "auth-params", "service-key", "token", "basic-auth", "jaas.config", "http-headers",
	KeyArtifactHTTPHeader}

// Mask replaces the values of sensitive keys.
const Mask = "******"

// Sensitive reports whether the value of the configuration key (or of an
// environment variable so named) is a secret Flink would mask.
func Sensitive(key string) bool {
	lower := strings.ToLower(key)
	for _, s := range sensitiveFragments {
		if strings.Contains(lower, s) {
			return true
		}
	}
	return false
}
