package sysmetrics

import (
	"runtime"
	"sync"
	"time"
)

// Sample is one reading of the process and the machine's GPUs.
type Sample struct {
	Time time.Time
	// CPU is true when CPUPercent was measured (Linux).
	CPU bool
	// CPUPercent is the CPU time the process used since the previous sample (or since the
	// Sampler started) over the wall time in between, as a share of all the machine's cores:
	// 100 means every core was busy with this process. A sample taken less than MinCPUWindow
	// after the previous one repeats that one's value (over a few milliseconds the share says
	// little).
	CPUPercent float64
	// Memory is true when the resident set sizes were read (Linux).
	Memory bool
	// RSSBytes is the process's resident memory now; PeakRSSBytes the most it has had so far.
	RSSBytes, PeakRSSBytes float64
	// GPUs are the latest readings of nvidia-smi, one per GPU; nil without an NVIDIA GPU.
	GPUs []GPU
}

// GPU is one reading of one NVIDIA GPU (the whole device, not only this process's share).
type GPU struct {
	Index              int     // nvidia-smi's index of the device
	UtilizationPercent float64 // share of the last sample period in which a kernel ran
	MemoryUsedBytes    float64
	MemoryTotalBytes   float64
}

// Sampler takes Samples of the process that created it. Its methods are safe for concurrent
// use; Close stops its background work.
type Sampler struct {
	cores int
	gpu   *gpuReader // nil without nvidia-smi

	mu       sync.Mutex
	lastCPU  time.Duration // process CPU time at the start of the current window
	lastWall time.Time
	percent  float64 // of the last window
	measured bool    // percent holds a measurement

	stopOnce sync.Once
	stop     chan struct{}
	wg       sync.WaitGroup
}

// Options tune a Sampler.
type Options struct {
	// GPUInterval is how often nvidia-smi reports (default 2 s).
	GPUInterval time.Duration
	// NvidiaSMI is the nvidia-smi program: "" looks it up on PATH; "-" turns GPU sampling off.
	NvidiaSMI string
}

// New starts a Sampler: CPU utilisation is measured from now on, and nvidia-smi, when there
// is one, starts reporting in the background.
func New(opts Options) *Sampler {
	s := &Sampler{cores: runtime.NumCPU(), stop: make(chan struct{}), lastWall: time.Now()}
	s.lastCPU, _ = processCPU()
	if opts.NvidiaSMI != "-" {
		if opts.GPUInterval <= 0 {
			opts.GPUInterval = 2 * time.Second
		}
		s.gpu = startGPUReader(opts.NvidiaSMI, opts.GPUInterval)
	}
	return s
}

// MinCPUWindow is the shortest time CPU utilisation is measured over.
const MinCPUWindow = time.Second

// Sample reads the process's CPU time and memory now, with the latest GPU readings.
func (s *Sampler) Sample() Sample {
	s.mu.Lock()
	now := time.Now() // under the lock: concurrent samples see the clocks in order
	cpu, cpuOK := processCPU()
	if wall := now.Sub(s.lastWall); cpuOK && wall > 0 && (wall >= MinCPUWindow || !s.measured) {
		s.percent = 100 * float64(cpu-s.lastCPU) / float64(wall) / float64(s.cores)
		s.lastCPU, s.lastWall, s.measured = cpu, now, true
	}
	out := Sample{Time: now, CPU: s.measured, CPUPercent: s.percent}
	s.mu.Unlock()
	out.RSSBytes, out.PeakRSSBytes, out.Memory = processMemory()
	if s.gpu != nil {
		out.GPUs = s.gpu.latest()
	}
	return out
}

// Every calls fn with a new Sample every interval, from a goroutine of its own, until Close.
// fn must not block for long: the next sample waits for it.
func (s *Sampler) Every(interval time.Duration, fn func(Sample)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
				fn(s.Sample())
			}
		}
	}()
}

// Close stops the periodic sampling (waiting for a call of fn in progress) and nvidia-smi.
// It is safe to call more than once.
func (s *Sampler) Close() {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.wg.Wait()
		if s.gpu != nil {
			s.gpu.close()
		}
	})
}
