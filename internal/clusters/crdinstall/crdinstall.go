// Package crdinstall installs or upgrades flink-hub's FlinkDeployment CRD in
// every engaged member with server-side apply (the CRD is too large for the
// last-applied annotation of client-side apply). It updates only a CRD that
// is the hub's (annotated InstalledByAnnotation, or applied by an older hub
// under FieldManager) and not newer than its own; a CRD someone else
// installed (the Apache operator's Helm chart, say) is left alone and
// reported with its owner, as is a newer hub's.
package crdinstall

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	"sigs.k8s.io/yaml"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/deploy/crds"
)

const (
	// FieldManager owns the fields the hub applies.
	FieldManager = "flink-hub"
	// InstalledByAnnotation marks a FlinkDeployment CRD as the hub's to
	// install and update; its value is InstalledBy. deploy/crds carries it,
	// so a CRD applied from there is the hub's too.
	InstalledByAnnotation = "flink-hub.io/installed-by"
	// InstalledBy is the value of InstalledByAnnotation.
	InstalledBy = "flink-hub"
	// RevisionAnnotation orders CRD revisions of flink-hub: the hub never
	// replaces a CRD carrying a higher revision than its own.
	RevisionAnnotation = "flink-hub.io/crd-revision"
	// Revision is the revision of the CRDs embedded in this binary. Bump it
	// with every change of deploy/crds/flink.apache.org_*.yaml.
	Revision = 3
)

// Status is the outcome of the install in one member.
type Status struct {
	// Reason is a CRDInstalled condition reason.
	Reason string
	// Message explains Reason.
	Message string
}

// Installer applies the CRD on every engagement and remembers the outcome
// per member. Add it to the multicluster manager.
//
// Invariants: Engage never blocks (it retries in the background until the
// member accepts the CRD or the engagement ends).
type Installer struct {
	enabled bool
	retry   time.Duration
	crds    []embeddedCRD

	mu     sync.Mutex
	status map[string]engagedStatus
	next   uint64
}

// engagedStatus is a member's status and the engagement that wrote it: a
// re-engagement (rotated credentials) supersedes the old one's writes.
type engagedStatus struct {
	Status
	engagement uint64
}

// Option configures an Installer.
type Option func(*Installer)

// WithRetryInterval sets the wait between failed attempts (default 5 s).
func WithRetryInterval(d time.Duration) Option { return func(i *Installer) { i.retry = d } }

// New returns an Installer of the embedded Flink CRDs (FlinkDeployment,
// then FlinkSessionJob); a disabled one only reports InstallDisabled.
func New(enabled bool, opts ...Option) (*Installer, error) {
	i := &Installer{enabled: enabled, retry: 5 * time.Second, status: map[string]engagedStatus{}}
	for _, file := range []string{crds.FlinkDeployment, crds.FlinkSessionJob, crds.FlinkStateSnapshot} {
		c, err := embedded(file)
		if err != nil {
			return nil, err
		}
		i.crds = append(i.crds, c)
	}
	for _, o := range opts {
		o(i)
	}
	return i, nil
}

// embeddedCRD is one CRD the hub installs: the object it applies and the
// versions it serves.
type embeddedCRD struct {
	obj      *unstructured.Unstructured
	versions []string
}

// embedded reads file of crds.FS, annotated with the hub's revision and
// ownership.
func embedded(file string) (embeddedCRD, error) {
	raw, err := crds.FS.ReadFile(file)
	if err != nil {
		return embeddedCRD{}, err
	}
	var typed apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(raw, &typed); err != nil {
		return embeddedCRD{}, fmt.Errorf("embedded CRD %s: %w", file, err)
	}
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(raw, &obj.Object); err != nil {
		return embeddedCRD{}, fmt.Errorf("embedded CRD %s: %w", file, err)
	}
	obj.SetAPIVersion("apiextensions.k8s.io/v1")
	obj.SetKind("CustomResourceDefinition")
	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[RevisionAnnotation] = strconv.Itoa(Revision)
	ann[InstalledByAnnotation] = InstalledBy
	obj.SetAnnotations(ann)
	return embeddedCRD{obj: obj, versions: servedVersions(&typed)}, nil
}

// Start implements manager.Runnable; the work happens per engagement.
func (i *Installer) Start(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Engage implements multicluster.Aware.
func (i *Installer) Engage(ctx context.Context, name multicluster.ClusterName, cl cluster.Cluster) error {
	i.mu.Lock()
	i.next++
	gen := i.next
	i.mu.Unlock()
	if !i.enabled {
		i.set(string(name), gen, Status{Reason: hubv1alpha1.ReasonInstallDisabled, Message: "CRD installs are turned off (--install-crds=false)"})
		return nil
	}
	i.set(string(name), gen, Status{Reason: hubv1alpha1.ReasonInstallFailed, Message: "install pending"})
	go func() {
		logger := log.FromContext(ctx).WithValues("cluster", name)
		_ = wait.PollUntilContextCancel(ctx, i.retry, true, func(ctx context.Context) (bool, error) {
			st, err := i.Install(ctx, cl.GetClient(), cl.GetAPIReader())
			i.set(string(name), gen, st)
			if err != nil {
				logger.Info("Flink CRD install failed; will retry", "reason", st.Message)
			}
			return err == nil, nil
		})
		<-ctx.Done()
		i.forget(string(name), gen)
	}()
	return nil
}

// Install applies each CRD, in order, with the member client c, unless the
// member's (read with r, which must not strip managedFields) is someone
// else's or newer; one left alone does not keep the others from being
// installed. It reports the first that is not installed. The error is
// non-nil only when a retry may help.
func (i *Installer) Install(ctx context.Context, c client.Client, r client.Reader) (Status, error) {
	var names []string
	var first *Status
	var errs []error
	for _, crd := range i.crds {
		st, err := crd.install(ctx, c, r)
		errs = append(errs, err)
		if err != nil || st.Reason != hubv1alpha1.ReasonInstalled {
			if first == nil {
				first = &st
			}
			continue
		}
		names = append(names, crd.obj.GetName())
	}
	if first != nil {
		return *first, errors.Join(errs...)
	}
	return Status{Reason: hubv1alpha1.ReasonInstalled, Message: fmt.Sprintf("%s applied at revision %d", strings.Join(names, ", "), Revision)}, nil
}

// conflictTries is how many times a CRD is read, judged and applied when
// it changed between the read and the apply: another replica installed it
// at the same moment, or the apiserver recorded it established. A conflict
// is answered at once by judging the CRD again, not after the retry
// interval with a failure reported meanwhile.
const conflictTries = 3

// install applies crd unless the member's is someone else's or newer,
// judging again at once after a conflict (conflictTries).
func (crd embeddedCRD) install(ctx context.Context, c client.Client, r client.Reader) (Status, error) {
	for try := 1; ; try++ {
		st, err := crd.installOnce(ctx, c, r)
		if !apierrors.IsConflict(err) || try == conflictTries {
			return st, err
		}
	}
}

// installOnce reads, judges and applies crd once.
func (crd embeddedCRD) installOnce(ctx context.Context, c client.Client, r client.Reader) (Status, error) {
	var existing apiextensionsv1.CustomResourceDefinition
	err := r.Get(ctx, client.ObjectKey{Name: crd.obj.GetName()}, &existing)
	obj := crd.obj.DeepCopy()
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return Status{Reason: hubv1alpha1.ReasonInstallFailed, Message: fmt.Sprintf("read CRD: %v", err)}, err
	default:
		if owner := foreignOwner(&existing); owner != "" {
			return Status{Reason: hubv1alpha1.ReasonForeignCRD, Message: fmt.Sprintf(
				"%s was installed by %s, not by the hub; left alone. The hub updates only a CRD annotated %s=%s: "+
					"delete this one to let the hub install its own, or run the hub with --install-crds=false",
				crd.obj.GetName(), owner, InstalledByAnnotation, InstalledBy)}, nil
		}
		if why := crd.newer(&existing); why != "" {
			return Status{Reason: hubv1alpha1.ReasonNewerCRDPresent, Message: why + "; left alone"}, nil
		}
		// Apply only over the CRD just judged ours: a write in between
		// makes the apply fail, and the next attempt judges again.
		obj.SetResourceVersion(existing.ResourceVersion)
	}
	//lint:ignore SA1019 server-side apply of an unstructured object
	if err := c.Patch(ctx, obj, client.Apply, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return Status{Reason: hubv1alpha1.ReasonInstallFailed, Message: fmt.Sprintf("apply CRD %s: %v", crd.obj.GetName(), err)}, err
	}
	return Status{Reason: hubv1alpha1.ReasonInstalled, Message: fmt.Sprintf("%s applied at revision %d", crd.obj.GetName(), Revision)}, nil
}

// newer says why the member's CRD, the hub's, is newer than this hub's, or "".
func (crd embeddedCRD) newer(existing *apiextensionsv1.CustomResourceDefinition) string {
	if rev, err := strconv.Atoi(existing.Annotations[RevisionAnnotation]); err == nil && rev > Revision {
		return fmt.Sprintf("the member's %s is at revision %d, the hub's at %d", existing.Name, rev, Revision)
	}
	for _, v := range servedVersions(existing) {
		if !slices.Contains(crd.versions, v) {
			return fmt.Sprintf("the member's %s serves %s, which the hub does not know", existing.Name, v)
		}
	}
	return ""
}

func servedVersions(crd *apiextensionsv1.CustomResourceDefinition) []string {
	var out []string
	for _, v := range crd.Spec.Versions {
		if v.Served {
			out = append(out, v.Name)
		}
	}
	return out
}

// Status returns the install outcome of a member, if it is engaged.
func (i *Installer) Status(member string) (Status, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	st, ok := i.status[member]
	return st.Status, ok
}

// set records st unless a newer engagement of the member wrote first.
func (i *Installer) set(member string, gen uint64, st Status) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if cur, ok := i.status[member]; ok && cur.engagement > gen {
		return
	}
	i.status[member] = engagedStatus{Status: st, engagement: gen}
}

// forget drops the member's status if engagement gen wrote it last.
func (i *Installer) forget(member string, gen uint64) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if cur, ok := i.status[member]; ok && cur.engagement == gen {
		delete(i.status, member)
	}
}
