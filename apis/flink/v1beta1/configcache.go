package v1beta1

import (
	"maps"
	"sync"
)

// flatCacheSize bounds flatCache: a reconcile reads its resource's
// configuration several times (settings, the effective configuration), and
// the workers of a replica reconcile a few resources at once, so a few
// hundred recent configurations serve nearly every read.
const flatCacheSize = 512

// flatCache keeps recently flattened flinkConfigurations by their JSON, so
// that reading a setting does not decode the whole configuration again.
// Invariant: a cached map is never changed; callers get a copy.
var flatCache = struct {
	sync.Mutex
	byRaw map[string]map[string]string
	order []string // insertion order, for eviction
}{byRaw: map[string]map[string]string{}}

// cachedFlat returns a copy of the cached flat configuration of raw.
func cachedFlat(raw []byte) (map[string]string, bool) {
	flatCache.Lock()
	flat, ok := flatCache.byRaw[string(raw)]
	flatCache.Unlock()
	if !ok {
		return nil, false
	}
	return maps.Clone(flat), true
}

// cacheFlat remembers a copy of flat as the flat configuration of raw,
// forgetting the oldest entry when full.
func cacheFlat(raw []byte, flat map[string]string) {
	key := string(raw)
	flatCache.Lock()
	defer flatCache.Unlock()
	if _, ok := flatCache.byRaw[key]; ok {
		return
	}
	if len(flatCache.order) >= flatCacheSize {
		delete(flatCache.byRaw, flatCache.order[0])
		flatCache.order = flatCache.order[1:]
	}
	flatCache.byRaw[key] = maps.Clone(flat)
	flatCache.order = append(flatCache.order, key)
}
