package framework

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/flink-hub/flink-hub/internal/observability/jaegerquery"
)

// Jaeger is a running Jaeger (v2 all-in-one, in-memory storage) on loopback.
type Jaeger struct {
	// OTLPHTTP is the OTLP/HTTP endpoint URL, e.g. http://127.0.0.1:4318.
	OTLPHTTP string
	// OTLPGRPC is the OTLP/gRPC endpoint URL.
	OTLPGRPC string
	// QueryURL is the base URL of the query API.
	QueryURL string
	// Query is a client of the query API.
	Query *jaegerquery.Client

	cmd  *exec.Cmd
	done chan error
	dir  string
}

// jaegerConfig runs only what tests need: OTLP in, memory storage, query out.
const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:%d
    grpc:
      endpoint: 127.0.0.1:%d
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
      http:
        endpoint: 127.0.0.1:%d
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`

// JaegerBinary is bin/jaeger of the checkout, or $JAEGER_BIN.
func JaegerBinary() (string, error) { return toolBinary("JAEGER_BIN", "jaeger", "make test-bins") }

// JaegerPorts are Jaeger's loopback ports; zero picks a free one.
type JaegerPorts struct {
	// Query is the query API (16686 by Jaeger's convention).
	Query int
	// OTLPGRPC and OTLPHTTP are the OTLP receivers (4317 and 4318).
	OTLPGRPC, OTLPHTTP int
}

// StartJaeger starts Jaeger on free loopback ports and waits until its query
// API answers. Stop it with Stop.
func StartJaeger(ctx context.Context) (*Jaeger, error) {
	return StartJaegerOn(ctx, JaegerPorts{})
}

// StartJaegerOn starts Jaeger on the given ports (zero: a free one).
func StartJaegerOn(ctx context.Context, want JaegerPorts) (*Jaeger, error) {
	bin, err := JaegerBinary()
	if err != nil {
		return nil, err
	}
	ports, err := FreePorts(4)
	if err != nil {
		return nil, err
	}
	for i, p := range []int{want.Query, 0, want.OTLPGRPC, want.OTLPHTTP} {
		if p != 0 {
			ports[i] = p
		}
	}
	dir, err := os.MkdirTemp("", "jaeger-")
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, jaegerConfig, ports[0], ports[1], ports[2], ports[3]), 0o600); err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "jaeger.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--config", "file:"+cfg)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start jaeger: %w", err)
	}
	j := &Jaeger{
		OTLPGRPC: "http://127.0.0.1:" + strconv.Itoa(ports[2]),
		OTLPHTTP: "http://127.0.0.1:" + strconv.Itoa(ports[3]),
		QueryURL: "http://127.0.0.1:" + strconv.Itoa(ports[0]),
		cmd:      cmd,
		done:     make(chan error, 1),
		dir:      dir,
	}
	j.Query = &jaegerquery.Client{BaseURL: j.QueryURL}
	go func() { j.done <- cmd.Wait(); _ = logFile.Close() }()

	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := j.Query.Services(ctx); err == nil {
			return j, nil
		}
		select {
		case err := <-j.done:
			log, _ := os.ReadFile(filepath.Join(dir, "jaeger.log"))
			return nil, fmt.Errorf("jaeger exited: %v\n%s", err, log)
		case <-ctx.Done():
			_ = j.Stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = j.Stop()
			return nil, errors.New("jaeger query API did not answer within a minute")
		}
	}
}

// Stop terminates Jaeger and removes its files.
func (j *Jaeger) Stop() error {
	if j == nil || j.cmd == nil {
		return nil
	}
	Terminate(j.cmd.Process, j.done, 10*time.Second)
	j.cmd = nil
	return os.RemoveAll(j.dir)
}
