package flinknames

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

var (
	namePlaceholder      = regexp.MustCompile(`(?i)\{\{name\}\}`)
	namespacePlaceholder = regexp.MustCompile(`(?i)\{\{namespace\}\}`)
	httpScheme           = regexp.MustCompile(`(?i)^https?://`)
)

// IngressRule is the host and path of the Ingress rule that an
// spec.ingress.template makes for the FlinkDeployment name in namespace,
// read as the Apache operator reads it: {{name}} and {{namespace}}
// replaced in any case, http:// assumed without an http(s) scheme, the
// host taken without user info or port, the path up to a query or
// fragment ("" without one). The error says why the template makes no
// URL, or a host the apiserver refuses in an Ingress rule (an IP address,
// capitals, characters beyond a DNS name).
func IngressRule(template, name, namespace string) (host, path string, err error) {
	expanded := namePlaceholder.ReplaceAllLiteralString(template, name)
	expanded = namespacePlaceholder.ReplaceAllLiteralString(expanded, namespace)
	if !httpScheme.MatchString(expanded) {
		expanded = "http://" + expanded
	}
	rest := expanded[strings.Index(expanded, "://")+3:]
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	u, err := url.Parse("http://" + authority)
	if err != nil {
		return "", "", fmt.Errorf("%q is not a URL: %w", expanded, err)
	}
	host = u.Hostname()
	if host == "" {
		return "", path, nil
	}
	if net.ParseIP(host) != nil {
		return "", "", fmt.Errorf("host %q is an IP address, which an Ingress rule cannot name", host)
	}
	if msgs := validation.IsDNS1123Subdomain(strings.TrimPrefix(host, "*.")); len(msgs) > 0 {
		return "", "", fmt.Errorf("host %q: %s", host, strings.Join(msgs, "; "))
	}
	return host, path, nil
}
