package memberevents

import "time"

// Option configures a Recorder.
type Option func(*options)

type options struct {
	window, seriesInterval  time.Duration
	maxTracked, queueLength int
	now                     func() time.Time
}

// WithWindow sets how long after an event's first sight an equal one
// folds into it (DefaultWindow).
func WithWindow(d time.Duration) Option { return func(o *options) { o.window = d } }

// WithSeriesInterval sets the shortest time between two series updates of
// one event (DefaultSeriesInterval).
func WithSeriesInterval(d time.Duration) Option { return func(o *options) { o.seriesInterval = d } }

// WithMaxTracked sets how many recent events are kept to fold repeats
// (DefaultMaxTracked).
func WithMaxTracked(n int) Option { return func(o *options) { o.maxTracked = n } }

// WithQueueLength sets how many writes may wait for Run (DefaultQueueLength).
func WithQueueLength(n int) Option { return func(o *options) { o.queueLength = n } }

// withClock sets the clock (tests).
func withClock(now func() time.Time) Option { return func(o *options) { o.now = now } }
