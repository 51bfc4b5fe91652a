package fleetapi

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
)

// maxContinueLen bounds a continue token a caller sends: three names of
// at most 253 characters, base64-encoded.
const maxContinueLen = 1100

// pageQuery is a list request's page: the rows after After (all when
// nil), at most Limit of them (all when 0).
type pageQuery struct {
	After *fleetindex.Key
	Limit int
}

// parsePage reads ?limit= and ?continue=, refusing what this API did not
// issue with a message for the caller.
func parsePage(q url.Values) (pageQuery, error) {
	var p pageQuery
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > fleetv1.MaxLimit {
			return p, fmt.Errorf("limit: want a whole number from 1 to %d", fleetv1.MaxLimit)
		}
		p.Limit = n
	}
	if s := q.Get("continue"); s != "" {
		k, ok := decodeContinue(s)
		if !ok {
			return p, fmt.Errorf("continue: not a token of this API; start again without it")
		}
		p.After = &k
	}
	return p, nil
}

// encodeContinue is the continue token of the rows after k.
func encodeContinue(k fleetindex.Key) string {
	return base64.RawURLEncoding.EncodeToString([]byte(k.Cluster + "\x00" + k.Namespace + "\x00" + k.Name))
}

// decodeContinue reads a continue token: three non-empty names.
func decodeContinue(s string) (fleetindex.Key, bool) {
	if len(s) > maxContinueLen {
		return fleetindex.Key{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return fleetindex.Key{}, false
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return fleetindex.Key{}, false
	}
	return fleetindex.Key{Cluster: parts[0], Namespace: parts[1], Name: parts[2]}, true
}

// values adds the page to a peer's query.
func (p pageQuery) values(q url.Values) {
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.After != nil {
		q.Set("continue", encodeContinue(*p.After))
	}
}
