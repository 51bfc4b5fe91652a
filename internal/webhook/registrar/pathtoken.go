package registrar

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"

	"k8s.io/client-go/rest"
)

// PathToken is the last segment of member's webhook URL: an HMAC of the
// member's name keyed with the secret of the hub's credentials for it
// (bearer token, client key or password, as its kubeconfig Secret holds
// them). Every replica computes the same token, nobody without those
// credentials can, and it says nothing about them. The webhook trusts the
// member a call names only with the member's token, so a caller that merely
// reaches the webhook learns nothing about a member's FlinkDeployments.
// Credentials without a secret (an exec plugin) give no token ("").
//
// The token changes with the credentials; the member is registered again
// when its Secret changes, and calls with the old token meanwhile are
// treated as naming no member.
func PathToken(member string, cfg *rest.Config) string {
	key := cfg.BearerToken + "\x00" + string(cfg.KeyData) + "\x00" + cfg.Password
	if key == "\x00\x00" {
		return ""
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte("flink-hub webhook path\x00" + member))
	return hex.EncodeToString(mac.Sum(nil))[:32]
}
