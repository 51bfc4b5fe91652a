package flinkrest

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/flink-hub/flink-hub/internal/boundedtext"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// MaxJobNameBytes bounds the job name a Client returns: a name goes into
// status.jobStatus.jobName, and a JobManager (the tenant's own image)
// could answer one as long as the whole answer may be, more than the
// member would store. The name is quoted with boundedtext.Quote: valid
// UTF-8, control characters made spaces, a longer one cut on a character
// boundary and ending with "...".
const MaxJobNameBytes = 4 << 10

// flinkIDPattern is a Flink JobID or TriggerId as Flink writes them: 16
// bytes, 32 hex digits.
var flinkIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)

// MaxPathBytes bounds a savepoint or checkpoint path a JobManager
// answers: the path goes into status and FlinkStateSnapshots, and a job
// restores from it, so a longer one is refused, never cut.
const MaxPathBytes = 4 << 10

// MaxJarIDBytes bounds the id of an uploaded jar a JobManager answers
// (Flink's is a UUID and the file's name): it goes into session job
// status and the paths of later calls.
const MaxJarIDBytes = 1 << 10

// checkPath refuses a savepoint or checkpoint path beyond MaxPathBytes.
func checkPath(op, path string) error {
	if len(path) > MaxPathBytes {
		return &Error{Kind: KindBadResponse, Op: op, Message: fmt.Sprintf("JobManager answered a path of %d bytes, over %d: %s", len(path), MaxPathBytes, quoted(path))}
	}
	return nil
}

// checkTrigger refuses a trigger id that is not a Flink TriggerId (it goes
// into status and into the paths of later calls).
func checkTrigger(op, id string) error {
	if !flinkIDPattern.MatchString(id) {
		return &Error{Kind: KindBadResponse, Op: op, Message: "JobManager answered a trigger id that is not Flink's: " + quoted(id)}
	}
	return nil
}

// checkJob refuses a job whose id is not a Flink JobID (the id goes into
// the paths of later calls and into status) or whose state is not one of
// Flink's (the state goes into status.jobStatus.state and decides the
// lifecycle), as Flink's own client would fail to read them, and cuts a
// name beyond MaxJobNameBytes.
func checkJob(op string, id *api.JobID, state api.JobStatus, name *string) error {
	if !flinkIDPattern.MatchString(string(*id)) {
		return &Error{Kind: KindBadResponse, Op: op, Message: "JobManager answered a job id that is not a Flink job id: " + quoted(string(*id))}
	}
	if !state.Valid() {
		return &Error{Kind: KindBadResponse, Op: op, Message: fmt.Sprintf("JobManager answered job %s in state %s, not one of Flink's job states", *id, quoted(string(state)))}
	}
	*name = boundedtext.Quote(*name, MaxJobNameBytes)
	return nil
}

// quoted is s quoted, its first 64 bytes at most: enough to recognize, not
// enough to flood a status or a log line.
func quoted(s string) string {
	const limit = 64
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:limit]) + "..."
}

// MaxVersionBytes bounds the Flink version and revision a Client returns
// from the JobManager's configuration: they go into status.clusterInfo.
// Flink's own are tens of bytes.
const MaxVersionBytes = 256
