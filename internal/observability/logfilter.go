package observability

import "github.com/go-logr/logr"

// queueItemsMessage is the message controller-runtime v0.24's priority queue
// logs at verbosity 5 every 10 seconds with the queue's items.
const queueItemsMessage = "workqueue_items"

// WithoutQueueItemDumps returns logger without the priority queue's
// "workqueue_items" dump. controller-runtime v0.24.1 collects the items
// under the queue's lock but formats them after releasing it, while the
// queue's goroutines keep changing them: a data race that -v=5 or more
// would run every 10 seconds (fixed upstream after v0.24.1, a release the
// module proxy does not serve). Every other message passes unchanged.
func WithoutQueueItemDumps(logger logr.Logger) logr.Logger {
	if logger.GetSink() == nil {
		return logger
	}
	return logr.New(dropQueueItems{logger.GetSink()})
}

// dropQueueItems is a LogSink that drops queueItemsMessage and keeps its
// filter on the sinks WithValues and WithName derive.
type dropQueueItems struct{ logr.LogSink }

// Init tells the wrapped sink about the extra frame of Info.
func (s dropQueueItems) Init(info logr.RuntimeInfo) {
	info.CallDepth++
	s.LogSink.Init(info)
}

// Info drops queueItemsMessage and passes every other message on.
func (s dropQueueItems) Info(level int, msg string, keysAndValues ...any) {
	if msg == queueItemsMessage {
		return
	}
	s.LogSink.Info(level, msg, keysAndValues...)
}

// WithValues keeps the filter on the derived sink.
func (s dropQueueItems) WithValues(keysAndValues ...any) logr.LogSink {
	return dropQueueItems{s.LogSink.WithValues(keysAndValues...)}
}

// WithName keeps the filter on the derived sink.
func (s dropQueueItems) WithName(name string) logr.LogSink {
	return dropQueueItems{s.LogSink.WithName(name)}
}

// WithCallDepth keeps the filter on a sink that reports callers further up.
func (s dropQueueItems) WithCallDepth(depth int) logr.LogSink {
	if sink, ok := s.LogSink.(logr.CallDepthLogSink); ok {
		return dropQueueItems{sink.WithCallDepth(depth)}
	}
	return s
}
