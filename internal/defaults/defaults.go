// Package defaults holds the default Flink configuration a platform team
// sets once, in three levels merged under each resource's own
// flinkConfiguration (the resource wins): the fleet's, then a member's
// (its checkpoint and HA storage, say: each member has its own object
// store), then the resource's. The defaults are ConfigMaps of the hub
// namespace labelled flink-hub.io/defaults=true, each with the key
// flink-conf.yaml (a YAML map; nested maps are joined with dots, as in a
// flinkConfiguration): without the flink-hub.io/member annotation they are
// the fleet's, with it that member's. Several ConfigMaps of one level merge
// in name order.
package defaults

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

const (
	// Label marks a ConfigMap of the hub namespace as default configuration.
	Label = "flink-hub.io/defaults"
	// MemberAnnotation names the member a default ConfigMap is for; absent:
	// the whole fleet.
	MemberAnnotation = "flink-hub.io/member"
	// Key is the ConfigMap key holding the configuration.
	Key = "flink-conf.yaml"
)

// Sources of an effective setting.
const (
	SourceFleet    = "fleet default"
	SourceMember   = "member default"
	SourceResource = "resource"
)

// Parse reads a default ConfigMap: its member ("" for the fleet) and its
// flat configuration.
func Parse(cm *corev1.ConfigMap) (member string, conf map[string]string, err error) {
	member = cm.Annotations[MemberAnnotation]
	raw, err := yaml.YAMLToJSON([]byte(cm.Data[Key]))
	if err != nil {
		return member, nil, fmt.Errorf("%s: %w", Key, err)
	}
	spec := v1beta1.FlinkDeploymentSpec{FlinkConfiguration: &apiextensionsv1.JSON{Raw: raw}}
	conf, err = spec.FlatConfiguration()
	if err != nil {
		return member, nil, fmt.Errorf("%s: %w", Key, err)
	}
	return member, conf, nil
}

// Store holds the parsed default ConfigMaps. Safe for concurrent use; the
// zero value is empty and loaded (NewStore makes one to be loaded).
type Store struct {
	mu   sync.RWMutex
	maps map[string]entry // by ConfigMap name
	// loaded is closed once the store holds every default ConfigMap its
	// reader found at start; nil: loaded.
	loaded     chan struct{}
	loadedOnce sync.Once
}

// NewStore returns an empty Store that is not loaded: Apply waits until
// Loaded is called (by the Loader, once it read every default ConfigMap).
func NewStore() *Store { return &Store{loaded: make(chan struct{})} }

// ErrNotLoaded is Apply's error while the store has not been loaded yet:
// merging an incomplete set of defaults would validate, and deploy, a
// configuration the resource does not have.
var ErrNotLoaded = errors.New("the hub has not read its default Flink configuration yet")

// Loaded marks the store loaded; later calls do nothing.
func (s *Store) Loaded() {
	s.loadedOnce.Do(func() {
		if s.loaded != nil {
			close(s.loaded)
		}
	})
}

// Wait returns once the store is loaded, or ErrNotLoaded when ctx ends
// first.
func (s *Store) Wait(ctx context.Context) error {
	if s.loaded == nil {
		return nil
	}
	select {
	case <-s.loaded:
		return nil
	default:
	}
	select {
	case <-s.loaded:
		return nil
	case <-ctx.Done():
		return ErrNotLoaded
	}
}

// ReconcileWait is how long a reconcile (or another reader that can try
// again) waits for the store to be loaded before it gives up with
// ErrNotLoaded: a replica that has just started must not act on part of
// the defaults.
const ReconcileWait = time.Second

// WaitAWhile is Wait bounded by ReconcileWait.
func (s *Store) WaitAWhile(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, ReconcileWait)
	defer cancel()
	return s.Wait(ctx)
}

// ReadyzCheck is a healthz.Checker: ready once the store is loaded.
func (s *Store) ReadyzCheck(*http.Request) error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return s.Wait(ctx)
}

// Apply merges the fleet's and member's default configuration under fd's
// own flinkConfiguration, in place: the one merge the FlinkDeployment
// controller and the webhook both make before they validate, so that they
// judge the same configuration (as upstream's validator judges the
// operator's default configuration with the resource's own over it).
// member "" merges the fleet's defaults only. The jar fetch headers of the
// defaults are left out (sessionJobOnly). Without defaults, or with a
// configuration that cannot be read (left to the validation to report),
// fd is untouched. Apply waits for the store to be loaded until ctx ends,
// then returns ErrNotLoaded and leaves fd untouched. The work is bounded
// by the defaults and fd's own configuration: nothing is read from an
// apiserver.
func (s *Store) Apply(ctx context.Context, member string, fd *v1beta1.FlinkDeployment) error {
	if err := s.Wait(ctx); err != nil {
		return err
	}
	if !s.Has(member) {
		return nil
	}
	own, err := fd.Spec.FlatConfiguration()
	if err != nil {
		return nil
	}
	conf, _ := s.Effective(member, own)
	for _, key := range sessionJobOnly {
		if _, set := own[key]; !set {
			delete(conf, key)
		}
	}
	fd.Spec.FlinkConfiguration = v1beta1.ConfigurationOf(conf)
	return nil
}

// sessionJobOnly are the default settings Apply leaves out of a
// FlinkDeployment that does not set them itself: the jar fetch headers,
// credentials of an artifact repository that only session jobs read
// (from Effective). Merged, they went into the FlinkDeployment's
// status.reconciliationStatus.lastReconciledSpec, where whoever may read
// the FlinkDeployment read them.
var sessionJobOnly = []string{flinkconf.KeyArtifactHTTPHeader}

type entry struct {
	member string
	conf   map[string]string
	// headerOrigins scope conf's jar fetch header (HeaderOriginsKey).
	headerOrigins []string
}

// Set records the ConfigMap name's configuration for member ("" fleet),
// with the origins its jar fetch header may go to (HeaderOrigins). It
// returns the members whose defaults changed: the previous and the new
// one ("" meaning every member).
func (s *Store) Set(name, member string, conf map[string]string, headerOrigins ...string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.maps == nil {
		s.maps = map[string]entry{}
	}
	old, had := s.maps[name]
	s.maps[name] = entry{member: member, conf: conf, headerOrigins: headerOrigins}
	if had && old.member == member && maps.Equal(old.conf, conf) && slices.Equal(old.headerOrigins, headerOrigins) {
		return nil
	}
	if had && old.member != member {
		return []string{old.member, member}
	}
	return []string{member}
}

// Delete forgets the ConfigMap name and returns the member whose defaults
// changed, if any ("" meaning every member).
func (s *Store) Delete(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, had := s.maps[name]
	if !had {
		return nil
	}
	delete(s.maps, name)
	return []string{old.member}
}

// Has reports whether any default applies to member.
func (s *Store) Has(member string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, e := range s.maps {
		if e.member == "" || e.member == member {
			return true
		}
	}
	return false
}

// Effective merges the fleet's and member's defaults under own (a
// resource's flat configuration): the configuration the resource runs
// with, and where each key came from.
func (s *Store) Effective(member string, own map[string]string) (conf, source map[string]string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	conf, source = map[string]string{}, map[string]string{}
	names := slices.Sorted(maps.Keys(s.maps))
	for _, level := range []struct{ member, source string }{{"", SourceFleet}, {member, SourceMember}} {
		if level.member == "" && level.source == SourceMember {
			continue
		}
		for _, name := range names {
			if e := s.maps[name]; e.member == level.member {
				for k, v := range e.conf {
					conf[k], source[k] = v, level.source
				}
			}
		}
	}
	for k, v := range own {
		conf[k], source[k] = v, SourceResource
	}
	return conf, source
}
