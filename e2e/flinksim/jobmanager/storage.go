package jobmanager

import (
	"fmt"
	"strings"
	"sync"
)

// Storage is the durable file system that JobManagers write their
// checkpoints and savepoints to and restore from (a bucket, a shared
// volume): one for a whole simulator, so a savepoint one cluster took is
// there for another. A job told to restore from a path Storage does not
// hold fails to start, as Flink's JobMaster fails to resolve it; a
// disposed savepoint is gone. A nil *Storage is not modelled: it holds
// every path (for tests of the REST API alone).
type Storage struct {
	mu    sync.Mutex
	paths map[string]bool
}

// NewStorage returns an empty Storage.
func NewStorage() *Storage { return &Storage{paths: map[string]bool{}} }

// storageKey is the directory a checkpoint pointer names: Flink resolves
// a savepoint or checkpoint directory and the _metadata file in it alike.
func storageKey(path string) string {
	return trimSlash(strings.TrimSuffix(trimSlash(path), "/_metadata"))
}

// Write records a completed checkpoint or savepoint at path.
func (s *Storage) Write(path string) {
	if s == nil || path == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paths[storageKey(path)] = true
}

// Holds reports whether a checkpoint or savepoint exists at path.
func (s *Storage) Holds(path string) bool {
	if s == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paths[storageKey(path)]
}

// Remove deletes the checkpoint or savepoint at path, as a disposal does.
func (s *Storage) Remove(path string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.paths, storageKey(path))
}

// notFound is the exception Flink's AbstractFsCheckpointStorageAccess
// throws resolving a checkpoint pointer with nothing at path.
func notFound(path string) string {
	scheme := "file"
	if i := strings.Index(path, "://"); i > 0 {
		scheme = path[:i]
	}
	return fmt.Sprintf("java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory '%s' on file system '%s'.", path, scheme)
}

// disposalNotFound is how Flink's disposal of a path with nothing at it
// fails: the Dispatcher wraps resolving the pointer's
// FileNotFoundException in a FlinkException, thrown in a
// CompletionException (the failure's first line, then its causes).
func disposalNotFound(path string) string {
	msg := fmt.Sprintf("org.apache.flink.util.FlinkException: Could not dispose savepoint %s.", path)
	return msg + "\n" +
		"Caused by: " + msg + "\n" +
		"\tat org.apache.flink.runtime.dispatcher.Dispatcher.lambda$disposeSavepoint$0(Dispatcher.java)\n" +
		"Caused by: " + notFound(path) + "\n" +
		"\tat org.apache.flink.runtime.state.filesystem.AbstractFsCheckpointStorageAccess.resolveCheckpointPointer(AbstractFsCheckpointStorageAccess.java)\n" +
		"\tat org.apache.flink.runtime.checkpoint.Checkpoints.disposeSavepoint(Checkpoints.java)\n"
}

// missingRestore is the exception a job fails with when the path it is to
// restore from does not exist: Flink's JobMaster cannot be created
// (JobInitializationException) because resolving the checkpoint pointer
// throws FileNotFoundException. The stack trace's causes are Flink's.
func missingRestore(path string) string {
	notFound := notFound(path)
	return "org.apache.flink.runtime.client.JobInitializationException: Could not start the JobMaster.\n" +
		"\tat org.apache.flink.runtime.jobmaster.DefaultJobMasterServiceProcess.lambda$new$0(DefaultJobMasterServiceProcess.java)\n" +
		"Caused by: java.util.concurrent.CompletionException: java.lang.RuntimeException: " + notFound + "\n" +
		"\tat java.base/java.util.concurrent.CompletableFuture.encodeThrowable(CompletableFuture.java)\n" +
		"Caused by: java.lang.RuntimeException: " + notFound + "\n" +
		"\tat org.apache.flink.util.ExceptionUtils.rethrow(ExceptionUtils.java)\n" +
		"Caused by: " + notFound + "\n" +
		"\tat org.apache.flink.runtime.state.filesystem.AbstractFsCheckpointStorageAccess.resolveCheckpointPointer(AbstractFsCheckpointStorageAccess.java)\n" +
		"\tat org.apache.flink.runtime.checkpoint.CheckpointCoordinator.restoreSavepoint(CheckpointCoordinator.java)\n"
}
