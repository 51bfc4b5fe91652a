package framework

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	buildMu    sync.Mutex
	buildCache = map[string]string{}
)

// Build compiles a main package of this module (e.g. "./cmd/flink-hub"),
// with the build tags given, once per test process and returns the
// binary's path. Under `go test -race` the program is built with the race
// detector too.
func Build(pkg string, tags ...string) (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	key := pkg + " " + strings.Join(tags, ",")
	if path, ok := buildCache[key]; ok {
		return path, nil
	}
	dir, err := os.MkdirTemp("", "flink-hub-bin-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, filepath.Base(pkg))
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race")
	}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = RepoRoot()
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
	}
	buildCache[key] = out
	return out, nil
}

// Process is a program run by a test, its output in a log file.
type Process struct {
	// Name identifies the process in errors.
	Name string
	// LogPath holds its stdout and stderr.
	LogPath string

	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done is closed
}

// StartProcess starts bin with args, logging to dir/<name>.log. The process
// is killed if the test process dies.
func StartProcess(dir, name, bin string, args ...string) (*Process, error) {
	p := &Process{Name: name, LogPath: filepath.Join(dir, name+".log"), done: make(chan struct{})}
	log, err := os.Create(p.LogPath)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = ChildEnv()
	p.cmd.Stdout, p.cmd.Stderr = log, log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { p.err = raceExit(p.cmd.Wait(), p.LogPath); _ = log.Close(); close(p.done) }()
	return p, nil
}

// raceExitCode is the exit status of a race-detecting program that found a
// data race.
const raceExitCode = 66

// ChildEnv is the environment for programs a test runs. Under -race it
// makes a program built by Build stop at its first data race, with
// raceExitCode, so the test sees it fail instead of a report it never
// reads.
func ChildEnv() []string {
	env := os.Environ()
	if raceEnabled && os.Getenv("GORACE") == "" {
		env = append(env, fmt.Sprintf("GORACE=halt_on_error=1 exitcode=%d", raceExitCode))
	}
	return env
}

// raceExit names a data race as the cause of a race-detecting program's
// exit.
func raceExit(err error, logPath string) error {
	var exit *exec.ExitError
	if raceEnabled && errors.As(err, &exit) && exit.ExitCode() == raceExitCode {
		return fmt.Errorf("%w: a data race, reported in %s", err, logPath)
	}
	return err
}

func (p *Process) wait(timeout time.Duration) (error, bool) {
	select {
	case <-p.done:
		return p.err, true
	case <-time.After(timeout):
		return nil, false
	}
}

// Exited reports whether the process has ended, and with what error.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop sends SIGTERM and waits up to grace for the exit, then kills. It
// returns the exit error of a process that did not exit cleanly.
func (p *Process) Stop(grace time.Duration) error {
	if done, err := p.Exited(); done {
		return err
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if err, ok := p.wait(grace); ok {
		return err
	}
	_ = p.cmd.Process.Kill()
	err, _ := p.wait(time.Minute)
	return errors.Join(fmt.Errorf("%s did not stop within %s of SIGTERM", p.Name, grace), err)
}

// Terminate sends p SIGTERM and waits up to grace for exited to deliver
// its exit, then kills p and waits for the exit. For a process started
// with os/exec rather than StartProcess.
func Terminate(p *os.Process, exited <-chan error, grace time.Duration) {
	_ = p.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = p.Kill()
		<-exited
	}
}

// ProcFile is a file of a process under /proc.
type ProcFile struct {
	PID  int
	Data []byte
}

// ReadProcFiles reads /proc/<pid>/<name> (stat, cmdline, ...) of every
// process, in the order /proc lists them; processes that exit meanwhile
// are left out.
func ReadProcFiles(name string) ([]ProcFile, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []ProcFile
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), name))
		if err != nil {
			continue
		}
		out = append(out, ProcFile{PID: pid, Data: data})
	}
	return out, nil
}

// Kill sends SIGKILL and waits for the exit.
func (p *Process) Kill() {
	if done, _ := p.Exited(); done {
		return
	}
	_ = p.cmd.Process.Kill()
	p.wait(time.Minute)
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Wait waits up to timeout for the exit and returns its error.
func (p *Process) Wait(timeout time.Duration) error {
	if err, ok := p.wait(timeout); ok {
		return err
	}
	return fmt.Errorf("%s still runs after %s", p.Name, timeout)
}

// LogTail returns the last n lines of the process's log, or why it cannot:
// a failing test logs the end, where a process that exited says why (CI
// keeps the head and the tail of long outputs only).
func (p *Process) LogTail(n int) string {
	log, err := os.ReadFile(p.LogPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(log), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
