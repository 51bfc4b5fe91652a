// Package webhook serves the validating admission webhook for
// FlinkDeployments of member clusters. It applies exactly the rules the
// controller applies (internal/validation), to the same configuration: the
// resource's own over the fleet's and the calling member's defaults
// (internal/defaults), so a write the webhook admits is one the controller
// accepts, and a write it rejects names the field and the rule. Every
// member's kube-apiserver calls the hub's webhook endpoint over HTTPS; the
// certificate comes from a CertSource (package webhook/certs).
package webhook

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/defaults"
	"github.com/flink-hub/flink-hub/internal/validation"
)

// Path is where the FlinkDeployment validation is served.
const Path = "/validate-flinkdeployment"

// maxBody bounds an AdmissionReview (kube-apiserver's own request limit is
// 3 MiB; a FlinkDeployment is far smaller).
const maxBody = 4 << 20

// CertSource hands out the serving certificate, which may change at any
// time (rotation).
type CertSource interface {
	// GetCertificate is a tls.Config.GetCertificate.
	GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error)
}

// SessionClusters look up the FlinkDeployment a FlinkSessionJob names, as
// the hub knows it.
type SessionClusters interface {
	// Calling reports whether token is member's path token
	// (registrar.PathToken): only member's apiserver, which has it from
	// the registration, calls with it.
	Calling(ctx context.Context, member, token string) bool
	// SessionCluster returns member's FlinkDeployment namespace/name;
	// ok is false when this replica does not know it (a member it does
	// not serve, or not cached yet: the same apply may create it a moment
	// before the job).
	SessionCluster(ctx context.Context, member, namespace, name string) (fd *flinkv1beta1.FlinkDeployment, ok bool)
}

// Server is the HTTPS admission server, a manager.Runnable.
type Server struct {
	addr     string
	certs    CertSource
	reviewer Reviewer
}

// NewServer serves the webhook on addr with certificates from certs,
// deciding with reviewer.
func NewServer(addr string, certs CertSource, reviewer Reviewer) *Server {
	return &Server{addr: addr, certs: certs, reviewer: reviewer}
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every
// replica serves.
func (s *Server) NeedLeaderElection() bool { return false }

// Start listens until ctx ends.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("webhook: listen on %s: %w", s.addr, err)
	}
	mux := http.NewServeMux()
	h := Handler(s.reviewer)
	mux.Handle(Path, h)
	mux.Handle(Path+"/", h)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// An apiserver waits at most 30 s for a webhook; a caller that
		// sends or reads slower than that holds a connection for nothing.
		ReadTimeout:  30 * time.Second,
		WriteTimeout: 30 * time.Second,
		IdleTimeout:  2 * time.Minute,
		TLSConfig:    &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.certs.GetCertificate},
		BaseContext:  func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		return fmt.Errorf("webhook: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// defaultsWait bounds how long a call waits for a replica that has just
// started to read the default configuration.
const defaultsWait = 2 * time.Second

// Handler validates AdmissionReviews of FlinkDeployments and
// FlinkSessionJobs of the member its path names (Path/<member>/<token>; the
// registrar registers that URL in each member) with v. A path without the
// member's token names no member: its session jobs are validated without
// the lookup, so a caller that is not the member learns nothing of the
// member's FlinkDeployments, and its FlinkDeployments with the fleet's
// defaults only, not the member's. Until the replica has read the defaults
// (defaultsWait at most) it answers 503, so that the member's failure
// policy decides, as for a replica it cannot reach.
func Handler(v Reviewer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST an AdmissionReview", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			http.Error(w, fmt.Sprintf("an AdmissionReview is at most %d MiB", maxBody>>20), http.StatusRequestEntityTooLarge)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var review admissionv1.AdmissionReview
		if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
			http.Error(w, "body is not an AdmissionReview with a request", http.StatusBadRequest)
			return
		}
		if err := v.defaultsRead(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		member := callingMember(r.Context(), r.URL.Path, v.Sessions)
		resp := v.Review(r.Context(), member, review.Request)
		if !resp.Allowed {
			log.FromContext(r.Context()).V(1).Info("rejected FlinkDeployment", "namespace", review.Request.Namespace,
				"name", review.Request.Name, "reason", resp.Result.Message)
		}
		review.Response = resp
		review.Request = nil
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(&review)
	})
}

// callingMember is the member path names (Path/<member>/<token>) if the
// token is that member's, else "".
func callingMember(ctx context.Context, path string, sessions SessionClusters) string {
	rest, _ := strings.CutPrefix(path, Path+"/")
	member, token, _ := strings.Cut(rest, "/")
	if member == "" || token == "" || sessions == nil || !sessions.Calling(ctx, member, token) {
		return ""
	}
	return member
}

// Review decides one admission request: CREATE and UPDATE of a
// FlinkDeployment or a FlinkSessionJob are validated (against the last
// reconciled spec in the object's status, for the rules about changes). An UPDATE that leaves the spec alone (labels,
// finalizers: the hub's own metadata writes), an object being deleted, a
// canary (labelled flink.apache.org/canary: "true", as upstream's webhook
// skips it) and any other operation are admitted, so metadata and
// finalizer changes never depend on the rules.
func Review(req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	return Reviewer{}.Review(context.Background(), "", req)
}

// Reviewer decides admission requests of one member's objects.
type Reviewer struct {
	// Sessions, optional, finds the FlinkDeployment a session job names:
	// one known to have a job (an application cluster) is refused, as
	// upstream's webhook does. One not known is admitted; the controller
	// reports it missing.
	Sessions SessionClusters
	// Defaults, optional, are the default configuration the controller
	// merges under a FlinkDeployment's own before it validates it: the
	// webhook validates the same effective configuration
	// (defaults.Store.Apply), with the calling member's defaults when the
	// call carries its token, the fleet's alone otherwise.
	Defaults *defaults.Store
}

// defaultsRead waits, for defaultsWait at most, until v's defaults are read.
func (v Reviewer) defaultsRead(ctx context.Context) error {
	if v.Defaults == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, defaultsWait)
	defer cancel()
	return v.Defaults.Wait(ctx)
}

// Review decides one admission request of member (see the function
// Review).
func (v Reviewer) Review(ctx context.Context, member string, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	resp := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return resp
	}
	if req.Kind.Kind == "FlinkSessionJob" {
		return v.reviewSessionJob(ctx, member, req, resp)
	}
	var fd flinkv1beta1.FlinkDeployment
	if err := json.Unmarshal(req.Object.Raw, &fd); err != nil {
		return deny(resp, metav1.StatusReasonBadRequest, fmt.Sprintf("decode FlinkDeployment: %v", err))
	}
	if fd.DeletionTimestamp != nil || flinkv1beta1.IsCanary(&fd) {
		return resp
	}
	if fd.Namespace == "" {
		fd.Namespace = req.Namespace
	}
	if req.Operation == admissionv1.Update && len(req.OldObject.Raw) > 0 {
		var old flinkv1beta1.FlinkDeployment
		if err := json.Unmarshal(req.OldObject.Raw, &old); err != nil {
			return deny(resp, metav1.StatusReasonBadRequest, fmt.Sprintf("decode the old FlinkDeployment: %v", err))
		}
		if equality.Semantic.DeepEqual(old.Spec, fd.Spec) {
			return resp
		}
	}
	// The rules about changes compare with the last reconciled spec, as
	// upstream's and the controller's do: what runs (or was suspended),
	// not what the previous write asked for. The apiserver hands an update
	// the stored status, so the object carries it. One that cannot be
	// read leaves the rules about changes to the controller, which
	// reports it.
	previous, _, _ := plan.DecodeSpec(fd.Status.ReconciliationStatus.LastReconciledSpec)
	if err := v.applyDefaults(ctx, member, &fd); err != nil {
		return deny(resp, metav1.StatusReasonServiceUnavailable, err.Error())
	}
	errs := validation.Validate(&fd, previous)
	if member != "" {
		// The calling member's defaults are merged: the configuration is
		// the controller's, so what only it can tell is judged here too.
		// A caller without its token got the fleet's defaults alone, and
		// its member's may complete the configuration: the controller
		// judges that one.
		errs = append(errs, validation.ValidateEffective(&fd)...)
	}
	if len(errs) > 0 {
		return deny(resp, metav1.StatusReasonInvalid, errs.ToAggregate().Error())
	}
	return resp
}

// applyDefaults merges the defaults the controller merges into fd, those
// of member ("" the fleet's alone), once they are read (defaultsRead).
func (v Reviewer) applyDefaults(ctx context.Context, member string, fd *flinkv1beta1.FlinkDeployment) error {
	if err := v.defaultsRead(ctx); err != nil || v.Defaults == nil {
		return err
	}
	return v.Defaults.Apply(ctx, member, fd)
}

// reviewSessionJob validates a FlinkSessionJob being created or updated,
// unless it is being deleted, and refuses one whose session cluster is
// known to be an application cluster.
func (v Reviewer) reviewSessionJob(ctx context.Context, member string, req *admissionv1.AdmissionRequest, resp *admissionv1.AdmissionResponse) *admissionv1.AdmissionResponse {
	var job flinkv1beta1.FlinkSessionJob
	if err := json.Unmarshal(req.Object.Raw, &job); err != nil {
		return deny(resp, metav1.StatusReasonBadRequest, fmt.Sprintf("decode FlinkSessionJob: %v", err))
	}
	if job.DeletionTimestamp != nil || flinkv1beta1.IsCanary(&job) {
		return resp
	}
	if job.Namespace == "" {
		job.Namespace = req.Namespace
	}
	if errs := validation.ValidateSessionJob(&job); len(errs) > 0 {
		return deny(resp, metav1.StatusReasonInvalid, errs.ToAggregate().Error())
	}
	if v.Sessions == nil || member == "" {
		return resp
	}
	if fd, ok := v.Sessions.SessionCluster(ctx, member, job.Namespace, job.Spec.DeploymentName); ok && fd.Spec.Job != nil {
		return deny(resp, metav1.StatusReasonInvalid, fmt.Sprintf("spec.deploymentName: Invalid value: %q: an application cluster (it has a job); a session job needs a FlinkDeployment without a job", job.Spec.DeploymentName))
	}
	return resp
}

func deny(resp *admissionv1.AdmissionResponse, reason metav1.StatusReason, msg string) *admissionv1.AdmissionResponse {
	resp.Allowed = false
	code := int32(http.StatusUnprocessableEntity)
	switch reason {
	case metav1.StatusReasonBadRequest:
		code = http.StatusBadRequest
	case metav1.StatusReasonServiceUnavailable:
		code = http.StatusServiceUnavailable
	}
	resp.Result = &metav1.Status{Status: metav1.StatusFailure, Reason: reason, Code: code, Message: msg}
	return resp
}
