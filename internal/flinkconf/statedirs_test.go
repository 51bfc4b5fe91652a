package flinkconf

import "testing"

// TestStateDirs: the checkpoint and savepoint directories are read under
// Flink 1.20's keys first, then under the deprecated state.* keys; a value
// of only white space counts as unset.
func TestStateDirs(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		conf                   Config
		checkpoints, savepoint string
	}{
		{"none", Config{}, "", ""},
		{"deprecated keys", Config{"state.checkpoints.dir": "s3://c", "state.savepoints.dir": "s3://s"}, "s3://c", "s3://s"},
		{"new keys", Config{"execution.checkpointing.dir": "s3://c2", "execution.checkpointing.savepoint-dir": "s3://s2"}, "s3://c2", "s3://s2"},
		{"new keys first", Config{"execution.checkpointing.dir": "s3://c2", "execution.checkpointing.savepoint-dir": "s3://s2",
			"state.checkpoints.dir": "s3://c", "state.savepoints.dir": "s3://s"}, "s3://c2", "s3://s2"},
		{"blank new keys", Config{"execution.checkpointing.dir": " ", "execution.checkpointing.savepoint-dir": "\t",
			"state.checkpoints.dir": "s3://c", "state.savepoints.dir": "s3://s"}, "s3://c", "s3://s"},
		{"blank everywhere", Config{"execution.checkpointing.savepoint-dir": " ", "state.savepoints.dir": "  "}, "", ""},
	} {
		if got := CheckpointsDir(tc.conf.Get); got != tc.checkpoints {
			t.Errorf("%s: checkpoints %q, want %q", tc.name, got, tc.checkpoints)
		}
		if got := SavepointsDir(tc.conf.Get); got != tc.savepoint {
			t.Errorf("%s: savepoints %q, want %q", tc.name, got, tc.savepoint)
		}
	}
}
