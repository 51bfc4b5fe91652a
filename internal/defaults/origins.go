package defaults

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/jarfetch"
)

// HeaderOriginsKey is the key of a default ConfigMap naming the origins
// its kubernetes.operator.user.artifacts.http.header is sent to: one per
// line or comma, "https://repo.example.com" or "http://host:8081". A
// default header is a platform team's credential, and a session job's
// jarURI is tenant text: without this scope anyone who may write a
// session job on any member could send the fleet's credential to a server
// of their own. A default header whose ConfigMap names no origins is sent
// to none. A session job's or session cluster's own header is its
// owner's, and goes to the jarURI it names.
const HeaderOriginsKey = "artifact-header-origins"

// MaxHeaderOrigins bounds the origins one ConfigMap names.
const MaxHeaderOrigins = 64

// HeaderOrigins reads cm's HeaderOriginsKey: the origins in the form
// jarfetch.Origin gives (scheme, lower-case host, port), sorted. An entry
// that is not an http or https origin (a path, a query, credentials, no
// host) is an error naming its position, never its text (it could hold a
// password), and the scope is then empty: the header is sent nowhere
// rather than somewhere it was not meant for.
func HeaderOrigins(cm *corev1.ConfigMap) ([]string, error) {
	seen := map[string]bool{}
	n := 0
	for _, field := range strings.FieldsFunc(cm.Data[HeaderOriginsKey], func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		entry := strings.TrimSpace(field)
		if entry == "" {
			continue
		}
		n++
		o, why := parseOrigin(entry)
		if why != "" {
			return nil, fmt.Errorf("%s: entry %d %s", HeaderOriginsKey, n, why)
		}
		seen[o] = true
		if len(seen) > MaxHeaderOrigins {
			return nil, fmt.Errorf("%s: more than %d origins", HeaderOriginsKey, MaxHeaderOrigins)
		}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// parseOrigin reads one origin, scheme://host[:port] and nothing else, or
// says what else the entry is.
func parseOrigin(entry string) (origin, why string) {
	u, err := url.Parse(entry)
	switch {
	case err != nil:
		return "", "is not a URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "is not an http or https origin"
	case u.User != nil:
		return "", "holds credentials; an origin is scheme://host[:port]"
	case u.Host == "" || u.Hostname() == "":
		return "", "names no host"
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "":
		return "", "is not an origin: scheme://host[:port], no path or query"
	}
	return jarfetch.Origin(u), ""
}

// DefaultHeaderScope is where a member's default jar fetch header may go:
// the origins of the ConfigMap whose header the member's defaults use.
type DefaultHeaderScope struct {
	// ConfigMap is the default ConfigMap the header comes from.
	ConfigMap string
	// Origins are its HeaderOriginsKey's origins; none: the header is sent
	// nowhere.
	Origins []string
}

// Allows reports whether the header may be sent to jarURI's origin.
func (d DefaultHeaderScope) Allows(jarURI string) bool {
	u, err := url.Parse(jarURI)
	if err != nil || u.Host == "" {
		return false
	}
	return slices.Contains(d.Origins, jarfetch.Origin(u))
}

// Withheld says, for a fetch that failed without the default header, why
// it was not sent.
func (d DefaultHeaderScope) Withheld() string {
	if len(d.Origins) == 0 {
		return fmt.Sprintf("the member's default %s (ConfigMap %s) was not sent: that ConfigMap's %s names no origin", flinkconf.KeyArtifactHTTPHeader, d.ConfigMap, HeaderOriginsKey)
	}
	return fmt.Sprintf("the member's default %s (ConfigMap %s) was not sent: it goes only to %s", flinkconf.KeyArtifactHTTPHeader, d.ConfigMap, strings.Join(d.Origins, ", "))
}

// HeaderScope is the scope of the jar fetch header in member's defaults:
// the origins of the last ConfigMap, in merge order (the fleet's, then
// the member's, each by name), that sets it; false when none does.
func (s *Store) HeaderScope(member string) (DefaultHeaderScope, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var scope DefaultHeaderScope
	found := false
	names := slices.Sorted(maps.Keys(s.maps))
	for _, level := range []string{"", member} {
		for _, name := range names {
			e := s.maps[name]
			if e.member != level {
				continue
			}
			if _, ok := e.conf[flinkconf.KeyArtifactHTTPHeader]; ok {
				scope, found = DefaultHeaderScope{ConfigMap: name, Origins: e.headerOrigins}, true
			}
		}
		if member == "" {
			break
		}
	}
	return scope, found
}
