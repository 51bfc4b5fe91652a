package flinksessionjob

import (
	"encoding/json"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// TestJarRunBodyRestoreMode: the restore mode configured for a session
// job (its configuration over its session cluster's over the member's
// defaults, under the keys the session cluster's Flink reads) goes with
// the savepoint path in the field that Flink version has: restoreMode
// from 1.15, claimMode from 1.20, none before; none without a path or a
// mode set. The version is the session cluster's deployed one. A value
// that is no mode is an error naming where it was set.
func TestJarRunBodyRestoreMode(t *testing.T) {
	const path = "s3://sp/savepoint-1"
	cases := []struct {
		name                   string
		version, deployed      v1beta1.FlinkVersion
		job, session, member   string // flinkConfiguration as JSON, "" for none
		path                   string
		restoreMode, claimMode api.RestoreMode
		err                    string
	}{
		{name: "unset", version: "v1_19", path: path},
		{name: "no savepoint path", version: "v1_19", job: `{"execution.savepoint-restore-mode":"CLAIM"}`},
		{name: "1.14 has no restore mode", version: "v1_14", job: `{"execution.savepoint-restore-mode":"CLAIM"}`, path: path},
		{name: "1.15 job's mode", version: "v1_15", job: `{"execution.savepoint-restore-mode":"claim"}`, path: path, restoreMode: "CLAIM"},
		{name: "1.19 session cluster's mode", version: "v1_19", session: `{"execution.savepoint-restore-mode":"LEGACY"}`, path: path, restoreMode: "LEGACY"},
		{name: "job over session cluster", version: "v1_17", job: `{"execution.savepoint-restore-mode":"NO_CLAIM"}`, session: `{"execution.savepoint-restore-mode":"CLAIM"}`, path: path, restoreMode: "NO_CLAIM"},
		{name: "member default", version: "v1_18", member: `{"execution.savepoint-restore-mode":" Claim "}`, path: path, restoreMode: "CLAIM"},
		{name: "1.19 does not read the 1.20 key", version: "v1_19", job: `{"execution.state-recovery.claim-mode":"CLAIM"}`, path: path},
		{name: "1.20 claim-mode", version: "v1_20", job: `{"execution.state-recovery.claim-mode":"CLAIM"}`, path: path, claimMode: "CLAIM"},
		{name: "1.20 reads the old key", version: "v2_2", job: `{"execution.savepoint-restore-mode":"CLAIM"}`, path: path, claimMode: "CLAIM"},
		{name: "1.20 new key first", version: "v1_20", job: `{"execution.savepoint-restore-mode":"CLAIM"}`, session: `{"execution.state-recovery.claim-mode":"NO_CLAIM"}`, path: path, claimMode: "NO_CLAIM"},
		{name: "deployed version decides", version: "v1_20", deployed: "v1_19", job: `{"execution.savepoint-restore-mode":"CLAIM"}`, path: path, restoreMode: "CLAIM"},
		{name: "session cluster's bad mode", version: "v1_19", session: `{"execution.savepoint-restore-mode":"sometimes"}`, path: path,
			err: `session cluster session's spec.flinkConfiguration: execution.savepoint-restore-mode: "sometimes" is not a restore mode`},
		{name: "member's bad mode", version: "v1_20", member: `{"execution.state-recovery.claim-mode":"` + strings.Repeat("x", 100) + `"}`, path: path,
			err: `the member's default configuration: execution.state-recovery.claim-mode: "` + strings.Repeat("x", 64) + `..." is not a restore mode`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := restoreState(t, tc.version, tc.deployed, tc.job, tc.session, tc.member)
			s.job.Status.JobStatus.UpgradeSavepointPath = tc.path
			req, err := jarRunBody(s, nil)
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if req.RestoreMode != tc.restoreMode || req.ClaimMode != tc.claimMode || req.SavepointPath != tc.path {
				t.Fatalf("restoreMode %q claimMode %q savepointPath %q; want %q %q %q", req.RestoreMode, req.ClaimMode, req.SavepointPath, tc.restoreMode, tc.claimMode, tc.path)
			}
		})
	}
}

// restoreState is a reconcile's state of a session job with configuration
// job on a session cluster of Flink version (deployed: the version of its
// last reconciled spec, "" for none) with configuration session, and the
// member's defaults member.
func restoreState(t *testing.T, version, deployed v1beta1.FlinkVersion, job, session, member string) *state {
	t.Helper()
	conf := func(raw string) *apiextensionsv1.JSON {
		if raw == "" {
			return nil
		}
		return &apiextensionsv1.JSON{Raw: []byte(raw)}
	}
	sj := &v1beta1.FlinkSessionJob{Spec: v1beta1.FlinkSessionJobSpec{DeploymentName: "session", FlinkConfiguration: conf(job), Job: &v1beta1.JobSpec{EntryClass: "org.example.Job", Parallelism: 2}}}
	fd := &v1beta1.FlinkDeployment{}
	fd.Name, fd.Spec.FlinkVersion, fd.Spec.FlinkConfiguration = "session", version, conf(session)
	if deployed != "" {
		last, err := json.Marshal(map[string]any{"spec": map[string]any{"flinkVersion": deployed}})
		if err != nil {
			t.Fatal(err)
		}
		fd.Status.ReconciliationStatus.LastReconciledSpec = string(last)
	}
	var defaults map[string]string
	if member != "" {
		if err := json.Unmarshal([]byte(member), &defaults); err != nil {
			t.Fatal(err)
		}
	}
	return &state{job: sj, session: fd, defaults: defaults}
}
