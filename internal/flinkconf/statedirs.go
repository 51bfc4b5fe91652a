package flinkconf

import "strings"

// Flink 1.20 renamed the checkpoint and savepoint directories'
// keys; it still reads the old ones (KeyCheckpointsDir, KeySavepointsDir)
// when the new ones are unset.
const (
	KeyCheckpointDir = "execution.checkpointing.dir"
	KeySavepointDir  = "execution.checkpointing.savepoint-dir"
)

// Get is c's value of key, "" when unset.
func (c Config) Get(key string) string { return c[key] }

// CheckpointsDir is the checkpoint directory that get reads: under
// execution.checkpointing.dir, else state.checkpoints.dir; "" when
// neither holds more than white space.
func CheckpointsDir(get func(key string) string) string {
	return firstSet(get, KeyCheckpointDir, KeyCheckpointsDir)
}

// SavepointsDir is the savepoint directory that get reads: under
// execution.checkpointing.savepoint-dir, else state.savepoints.dir; ""
// when neither holds more than white space.
func SavepointsDir(get func(key string) string) string {
	return firstSet(get, KeySavepointDir, KeySavepointsDir)
}

// firstSet is the value of the first of keys that get finds set to more
// than white space, "" when none is.
func firstSet(get func(key string) string, keys ...string) string {
	for _, k := range keys {
		if v := get(k); strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
