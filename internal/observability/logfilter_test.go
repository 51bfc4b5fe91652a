package observability_test

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/klog/v2/textlogger"

	"github.com/flink-hub/flink-hub/internal/observability"
)

func TestWithoutQueueItemDumps(t *testing.T) {
	var out bytes.Buffer
	logger := observability.WithoutQueueItemDumps(textlogger.NewLogger(textlogger.NewConfig(textlogger.Verbosity(10), textlogger.Output(&out))))
	derived := logger.WithName("controller").WithValues("controller", "flinkdeployment").V(5)

	derived.Info("workqueue_items", "items", []string{"a"})
	logger.Info("workqueue_items")
	derived.Info("kept message", "key", "value")
	logger.WithCallDepth(0).Info("kept at call depth")

	got := out.String()
	if strings.Contains(got, "workqueue_items") {
		t.Errorf("the queue's item dump was logged:\n%s", got)
	}
	for _, want := range []string{`"kept message"`, `controller="flinkdeployment"`, `key="value"`, `logger="controller"`, `"kept at call depth"`} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %s:\n%s", want, got)
		}
	}
	// textlogger names the caller: the filter's extra frame must not move it
	// off this file.
	if lines := strings.Count(got, "logfilter_test.go:"); lines != 2 {
		t.Errorf("%d of 2 lines name this file as their caller:\n%s", lines, got)
	}
}
