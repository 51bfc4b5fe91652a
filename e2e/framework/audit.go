package framework

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// auditPolicy records, at Metadata level (who, what, answer; no bodies),
// every request of a ServiceAccount: the identities the hub and the other
// programs under test use in members. Admin requests of the tests are not
// recorded. With statusPatches, the bodies of ServiceAccounts' patches of
// FlinkDeployment status are recorded too (Request.Body): what each
// status write changed.
func auditPolicy(statusPatches bool) string {
	rules := ""
	if statusPatches {
		rules = `- level: Request
  userGroups: ["system:serviceaccounts"]
  verbs: ["patch"]
  resources: [{group: flink.apache.org, resources: ["flinkdeployments/status"]}]
`
	}
	return `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
` + rules + `- level: Metadata
  userGroups: ["system:serviceaccounts"]
- level: None
`
}

// auditFiles writes the audit policy into a fresh folder and returns the
// policy and log paths the apiserver is started with.
func auditFiles(name string, statusPatches bool) (policy, log string, err error) {
	dir, err := os.MkdirTemp("", "audit-"+name+"-")
	if err != nil {
		return "", "", err
	}
	policy = filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy(statusPatches)), 0o600); err != nil {
		return "", "", err
	}
	return policy, filepath.Join(dir, "audit.log"), nil
}

// Request is one request of a ServiceAccount in a control plane's audit
// log.
type Request struct {
	// User is the requester's user name.
	User string
	// Verb, Resource, Subresource, Namespace and Name say what was asked.
	Verb, Resource, Subresource, Namespace, Name string
	// URI is the request URI.
	URI string
	// UserAgent is the requester's User-Agent.
	UserAgent string
	// Code is the answer's status code.
	Code int
	// Received is when the apiserver received the request.
	Received time.Time
	// Body is the request's body where the policy records it (see
	// ControlPlaneOptions.RecordStatusPatches), else empty.
	Body json.RawMessage
}

func (r Request) String() string {
	what := r.Resource
	if r.Subresource != "" {
		what += "/" + r.Subresource
	}
	if what == "" {
		what = r.URI
	}
	where := r.Namespace
	if r.Name != "" {
		where += "/" + r.Name
	}
	return fmt.Sprintf("%s: %s %s %s", r.User, r.Verb, what, where)
}

// auditEvent is the part of an audit.k8s.io/v1 Event the framework reads.
type auditEvent struct {
	Stage                    string    `json:"stage"`
	RequestURI               string    `json:"requestURI"`
	Verb                     string    `json:"verb"`
	UserAgent                string    `json:"userAgent"`
	RequestReceivedTimestamp time.Time `json:"requestReceivedTimestamp"`
	User                     struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	Annotations   map[string]string `json:"annotations"`
	RequestObject json.RawMessage   `json:"requestObject"`
}

// decisionAnnotation is the audit annotation in which the apiserver records
// its authorizer's answer.
const decisionAnnotation = "authorization.k8s.io/decision"

// Refusals returns every request of a user with the given prefix ("" for
// every ServiceAccount) that this control plane answered 403, read from its
// audit log.
func (cp *ControlPlane) Refusals(userPrefix string) ([]Refusal, error) {
	var out []Refusal
	err := cp.readAudit(func(r io.Reader) (err error) {
		out, err = refusals(r, userPrefix)
		return err
	})
	return out, err
}

// Refusal is a request the apiserver's authorizer refused (403 Forbidden
// without an "allow" decision).
type Refusal = Request

// Requests returns the requests of ServiceAccounts this control plane
// answered, in its audit log, for which match is true.
func (cp *ControlPlane) Requests(match func(Request) bool) ([]Request, error) {
	var out []Request
	err := cp.readAudit(func(r io.Reader) error {
		return eachAuditEvent(r, func(ev auditEvent) {
			if req := ev.request(); match(req) {
				out = append(out, req)
			}
		})
	})
	return out, err
}

// readAudit calls read with the audit log (empty when none was written).
func (cp *ControlPlane) readAudit(read func(io.Reader) error) error {
	if cp.auditLog == "" {
		return errors.New("control plane " + cp.Name + " has no audit log")
	}
	f, err := os.Open(cp.auditLog)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	return read(f)
}

// eachAuditEvent calls fn with every event of an audit log.
func eachAuditEvent(r io.Reader, fn func(auditEvent)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		var ev auditEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
		fn(ev)
	}
	return sc.Err()
}

// request is what the event says was asked, and by whom.
func (ev auditEvent) request() Request {
	req := Request{User: ev.User.Username, Verb: ev.Verb, URI: ev.RequestURI, UserAgent: ev.UserAgent, Received: ev.RequestReceivedTimestamp, Body: ev.RequestObject}
	if ev.ResponseStatus != nil {
		req.Code = ev.ResponseStatus.Code
	}
	if o := ev.ObjectRef; o != nil {
		req.Resource, req.Subresource, req.Namespace, req.Name = o.Resource, o.Subresource, o.Namespace, o.Name
	}
	return req
}

func refusals(r io.Reader, userPrefix string) ([]Refusal, error) {
	var out []Refusal
	err := eachAuditEvent(r, func(ev auditEvent) {
		if ev.ResponseStatus == nil || ev.ResponseStatus.Code != 403 || !strings.HasPrefix(ev.User.Username, userPrefix) {
			return
		}
		// A 403 of a request the authorizer allowed came from admission (a
		// ResourceQuota, a webhook: the tenant's business, reported in
		// status.error) or from behind the service proxy (a JobManager's
		// own answer); neither is a right the hub's identity lacks.
		if ev.Annotations[decisionAnnotation] == "allow" {
			return
		}
		out = append(out, ev.request())
	})
	return out, err
}
