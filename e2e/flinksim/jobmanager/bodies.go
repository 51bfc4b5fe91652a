package jobmanager

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// flinkRelease is a Flink major.minor version, {0, 0} for none.
type flinkRelease [2]int

// fieldSpan is the Flink releases whose request body class has a field:
// from since on, up to (not including) until; a zero bound is open.
type fieldSpan struct{ since, until flinkRelease }

// bodyClass is a REST request body class of Flink's and the fields its
// Jackson mapping knows, by release.
type bodyClass struct {
	// class is the Java class name, as Jackson names it in its errors.
	class string
	// fields are the JSON field names and the releases that know each.
	fields map[string]fieldSpan
}

// requestBodies are the request bodies the simulator reads, by the name
// of the generated type (Flink's simple class name). Flink reads every
// request body with its strict ObjectMapper (RestMapperUtils), which
// keeps Jackson's FAIL_ON_UNKNOWN_PROPERTIES: a field the release's class
// does not have fails the request (AbstractHandler answers 400 "Request
// did not match expected format"). Fields were added: triggerId 1.14;
// formatType and restoreMode 1.15 (FLIP-203, FLINK-25155); the checkpoint
// trigger (its body with it) and flinkConfiguration (FLINK-29543) 1.17;
// claimMode 1.20. programArgs went in 2.0.
var requestBodies = map[string]bodyClass{
	"JarRunRequestBody": {class: "org.apache.flink.runtime.webmonitor.handlers.JarRunRequestBody", fields: map[string]fieldSpan{
		"entryClass": {}, "programArgs": {until: flinkRelease{2, 0}}, "programArgsList": {}, "parallelism": {}, "jobId": {},
		"allowNonRestoredState": {}, "savepointPath": {}, "restoreMode": {since: flinkRelease{1, 15}},
		"claimMode": {since: flinkRelease{1, 20}}, "flinkConfiguration": {since: flinkRelease{1, 17}},
	}},
	"SavepointTriggerRequestBody": {class: "org.apache.flink.runtime.rest.messages.job.savepoints.SavepointTriggerRequestBody", fields: map[string]fieldSpan{
		"target-directory": {}, "cancel-job": {}, "triggerId": {since: flinkRelease{1, 14}}, "formatType": {since: flinkRelease{1, 15}},
	}},
	"StopWithSavepointRequestBody": {class: "org.apache.flink.runtime.rest.messages.job.savepoints.stop.StopWithSavepointRequestBody", fields: map[string]fieldSpan{
		"targetDirectory": {}, "drain": {}, "triggerId": {since: flinkRelease{1, 14}}, "formatType": {since: flinkRelease{1, 15}},
	}},
	"CheckpointTriggerRequestBody": {class: "org.apache.flink.runtime.rest.messages.job.checkpoints.CheckpointTriggerRequestBody", fields: map[string]fieldSpan{
		"checkpointType": {}, "triggerId": {},
	}},
	"SavepointDisposalRequest": {class: "org.apache.flink.runtime.rest.messages.job.savepoints.SavepointDisposalRequest", fields: map[string]fieldSpan{
		"savepoint-path": {},
	}},
}

// parseRelease reads "1.16", "1.19.1" or "2.0"; ok is false for a version
// it cannot read.
func parseRelease(version string) (r flinkRelease, ok bool) {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return r, false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	return flinkRelease{ma, mi}, err1 == nil && err2 == nil
}

// before reports whether r is an older release than o.
func (r flinkRelease) before(o flinkRelease) bool {
	return r[0] < o[0] || (r[0] == o[0] && r[1] < o[1])
}

// knows reports whether release r has the field; a release the simulator
// cannot read knows every field.
func (s fieldSpan) knows(r flinkRelease, ok bool) bool {
	if !ok {
		return true
	}
	return !r.before(s.since) && (s.until == flinkRelease{} || r.before(s.until))
}

// known is the fields of the class release r knows, sorted.
func (b bodyClass) known(r flinkRelease, ok bool) []string {
	var out []string
	for name, span := range b.fields {
		if span.knows(r, ok) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// unknownField is the first field of body (sorted by name) that class
// does not have in release r, "" when it has them all or body is not a
// JSON object (the typed decoding then says what is wrong).
func (b bodyClass) unknownField(body []byte, r flinkRelease, ok bool) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return ""
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if span, known := b.fields[name]; !known || !span.knows(r, ok) {
			return name
		}
	}
	return ""
}

// handlerFrames stand for the frames of Flink's AbstractHandler reading a
// request body.
const handlerFrames = "\tat org.apache.flink.runtime.rest.handler.AbstractHandler.respondAsLeader(AbstractHandler.java)\n" +
	"\tat org.apache.flink.runtime.rest.handler.LeaderRetrievalHandler.channelRead0(LeaderRetrievalHandler.java)\n"

// unrecognizedField answers as Flink does a body with a field the
// release's class does not have: 400, the RestHandlerException's stack
// trace with Jackson's UnrecognizedPropertyException as its cause.
func unrecognizedField(w http.ResponseWriter, simpleName string, b bodyClass, field string, r flinkRelease, ok bool) {
	known := b.known(r, ok)
	quoted := make([]string, len(known))
	for i, k := range known {
		quoted[i] = strconv.Quote(k)
	}
	cause := fmt.Sprintf("org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException: Unrecognized field %q (class %s), not marked as ignorable (%d known properties: %s])",
		field, b.class, len(known), strings.Join(quoted, ", "))
	writeError(w, http.StatusBadRequest, "org.apache.flink.runtime.rest.handler.RestHandlerException: Request did not match expected format "+simpleName+".\n"+handlerFrames+
		"Caused by: "+cause+"\n at [Source: (org.apache.flink.shaded.netty4.io.netty.buffer.ByteBufInputStream); line: 1, column: 1]\n"+handlerFrames+"\t... 9 more\n")
}

// decode reads the request body into v, a pointer to a generated request
// body type, as the JobManager's Flink release reads it: a field its
// class does not have in that release is refused.
func (s server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil && len(strings.TrimSpace(string(body))) > 0 {
		name := reflect.TypeOf(v).Elem().Name()
		if b, strict := requestBodies[name]; strict {
			rel, ok := parseRelease(s.jm.cfg.FlinkVersion)
			if field := b.unknownField(body, rel, ok); field != "" {
				unrecognizedField(w, name, b, field, rel, ok)
				return false
			}
		}
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "Request did not match expected format: "+err.Error())
		return false
	}
	return true
}
