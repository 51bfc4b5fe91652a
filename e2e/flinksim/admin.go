package flinksim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
)

// AdminPrefix is where Handler serves the simulator's own API, for
// processes that cannot call the library (the sandbox):
//
//	PUT  /_flinksim/faults/<cluster>/<namespace>/<name>      body: FaultsRequest
//	POST /_flinksim/crash/<cluster>/<namespace>/<name>
//	GET  /_flinksim/savepoints/<cluster>/<namespace>/<name>  answer: [{"path":...,"id":...}]
//
// "_flinksim" is not a valid cluster name, so it cannot shadow a JobManager.
const AdminPrefix = "/_flinksim/"

// FaultsRequest is the JSON body of a faults PUT; durations are Go
// duration strings ("2s"). An empty body clears the faults.
type FaultsRequest struct {
	Latency           string `json:"latency,omitempty"`
	ErrorStatus       int    `json:"errorStatus,omitempty"`
	Hang              bool   `json:"hang,omitempty"`
	SavepointFailure  string `json:"savepointFailure,omitempty"`
	CheckpointFailure string `json:"checkpointFailure,omitempty"`
	SavepointDuration string `json:"savepointDuration,omitempty"`
	CrashLoop         bool   `json:"crashLoop,omitempty"`
	// Hostile is a jobmanager.Hostile answer ("redirect", "huge-body",
	// "endless-body", "invalid-json", "stall"); RedirectTo the redirect's
	// base URL.
	Hostile    string `json:"hostile,omitempty"`
	RedirectTo string `json:"redirectTo,omitempty"`
}

// clusterFaults converts the request, checking its durations.
func (r FaultsRequest) clusterFaults() (ClusterFaults, error) {
	f := ClusterFaults{CrashLoop: r.CrashLoop, JobManager: jobmanager.Faults{
		ErrorStatus: r.ErrorStatus, Hang: r.Hang, SavepointFailure: r.SavepointFailure, CheckpointFailure: r.CheckpointFailure,
		Hostile: jobmanager.Hostile(r.Hostile), RedirectTo: r.RedirectTo}}
	if err := f.JobManager.Hostile.Check(r.RedirectTo); err != nil {
		return ClusterFaults{}, err
	}
	for _, d := range []struct {
		text string
		into *time.Duration
	}{{r.Latency, &f.JobManager.Latency}, {r.SavepointDuration, &f.JobManager.SavepointDuration}} {
		if d.text == "" {
			continue
		}
		v, err := time.ParseDuration(d.text)
		if err != nil {
			return ClusterFaults{}, err
		}
		*d.into = v
	}
	if r.ErrorStatus != 0 && (r.ErrorStatus < 400 || r.ErrorStatus > 599) {
		return ClusterFaults{}, fmt.Errorf("errorStatus %d is not an HTTP error status", r.ErrorStatus)
	}
	return f, nil
}

// serveAdmin answers the simulator's own API.
func (s *Simulator) serveAdmin(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, AdminPrefix), "/")
	if len(parts) != 4 || parts[1] == "" || parts[2] == "" || parts[3] == "" {
		http.Error(w, "want "+AdminPrefix+"<verb>/<cluster>/<namespace>/<name>", http.StatusNotFound)
		return
	}
	verb, cluster, ns, name := parts[0], parts[1], parts[2], parts[3]
	switch {
	case verb == "faults" && r.Method == http.MethodPut:
		var req FaultsRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil && !errors.Is(err, io.EOF) {
			http.Error(w, "bad faults: "+err.Error(), http.StatusBadRequest)
			return
		}
		f, err := req.clusterFaults()
		if err == nil {
			err = s.SetFaults(cluster, ns, name, f)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case verb == "crash" && r.Method == http.MethodPost:
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		if err := s.Crash(ctx, cluster, ns, name); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case verb == "savepoints" && r.Method == http.MethodGet:
		type savepoint struct {
			ID   int64     `json:"id"`
			Path string    `json:"path"`
			Time time.Time `json:"time"`
		}
		out := []savepoint{}
		for _, sp := range s.Savepoints(cluster, ns, name) {
			out = append(out, savepoint{ID: sp.ID, Path: sp.Path, Time: sp.Time})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	default:
		http.Error(w, "unknown "+r.Method+" "+verb, http.StatusNotFound)
	}
}
