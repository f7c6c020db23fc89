package experiments

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/sysmetrics"
	"github.com/aelab/aelab/tracker"
)

// DefaultSystemInterval is how often a tracked run samples the machine between epochs.
const DefaultSystemInterval = 5 * time.Second

// systemLogger samples the machine for one run: every interval from a goroutine of its own,
// and at the end of every epoch as an observer. Periodic samples carry the step of the last
// finished epoch and the number of the epoch in progress.
type systemLogger struct {
	run     *tracker.Run
	sampler *sysmetrics.Sampler
	epochs  int // of the run: samples during the final evaluation count as the last epoch's
	step    atomic.Int64
	epoch   atomic.Int64

	mu     sync.Mutex
	failed int   // periodic samples the store refused
	err    error // the first refusal
}

// startSystemLogger starts sampling for a run of epochs; interval 0 is DefaultSystemInterval,
// < 0 samples at epoch ends only.
func startSystemLogger(run *tracker.Run, epochs int, interval time.Duration) *systemLogger {
	l := &systemLogger{run: run, epochs: epochs, sampler: sysmetrics.New(sysmetrics.Options{})}
	l.epoch.Store(1)
	if interval == 0 {
		interval = DefaultSystemInterval
	}
	if interval > 0 {
		l.sampler.Every(interval, func(s sysmetrics.Sample) {
			if err := LogSample(run, s.Metrics(), l.step.Load(), int(l.epoch.Load())); err != nil {
				l.mu.Lock()
				if l.failed++; l.err == nil {
					l.err = err
				}
				l.mu.Unlock()
			}
		})
	}
	return l
}

// EpochEnd logs a sample taken at the end of the epoch; a store error stops training, as for
// the epoch's other metrics.
func (l *systemLogger) EpochEnd(m aelib.EpochMetrics) error {
	l.step.Store(m.Step)
	l.epoch.Store(int64(min(m.Epoch+1, max(l.epochs, 1))))
	return LogSample(l.run, l.sampler.Sample().Metrics(), m.Step, m.Epoch)
}

// close stops sampling and says on log how many periodic samples were lost, if any: losing
// them does not fail the run.
func (l *systemLogger) close(log io.Writer) {
	l.sampler.Close()
	if l.failed > 0 && log != nil {
		fmt.Fprintf(log, "system metrics: %d periodic samples not logged: %v\n", l.failed, l.err)
	}
}
