package sysmetrics

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseStatusMemory(t *testing.T) {
	status := "Name:\tgo\nVmPeak:\t  999 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nThreads:\t4\n"
	rss, peak, ok := parseStatusMemory([]byte(status))
	if !ok || rss != 1024*1024 || peak != 2048*1024 {
		t.Errorf("parseStatusMemory = %v, %v, %v; want 1 MiB, 2 MiB, true", rss, peak, ok)
	}
	for _, bad := range []string{"", "VmRSS:\t1 kB\n", "VmRSS:\tx kB\nVmHWM:\t1 kB\n", "VmRSS:\nVmHWM:\t1 kB\n"} {
		if _, _, ok := parseStatusMemory([]byte(bad)); ok {
			t.Errorf("parseStatusMemory(%q): ok", bad)
		}
	}
}

func TestParseGPULine(t *testing.T) {
	g, ok := parseGPULine("1, 87, 1024, 143771")
	if !ok || g.Index != 1 || g.UtilizationPercent != 87 || g.MemoryUsedBytes != 1<<30 || g.MemoryTotalBytes != 143771<<20 {
		t.Errorf("parseGPULine = %+v, %v", g, ok)
	}
	g, ok = parseGPULine("0, [N/A], 10, 20")
	if !ok || !math.IsNaN(g.UtilizationPercent) || g.MemoryUsedBytes != 10<<20 {
		t.Errorf("a value nvidia-smi cannot give: %+v, %v; want NaN utilisation", g, ok)
	}
	for _, bad := range []string{"", "WARNING: something", "x, 1, 2, 3", "0, 1, 2"} {
		if _, ok := parseGPULine(bad); ok {
			t.Errorf("parseGPULine(%q): ok", bad)
		}
	}
}

// TestSampleMeasuresThisProcess burns CPU and touches memory, and checks that the next sample
// sees both.
func TestSampleMeasuresThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU and memory are read from /proc (Linux)")
	}
	s := New(Options{NvidiaSMI: "-"})
	defer s.Close()
	time.Sleep(MinCPUWindow)
	before := s.Sample()
	if !before.CPU || !before.Memory || before.RSSBytes <= 0 || before.PeakRSSBytes < before.RSSBytes {
		t.Fatalf("first sample %+v: want CPU and memory, peak ≥ current", before)
	}
	// A busy loop for at least MinCPUWindow, so the next sample measures a new window.
	x := 1.0
	for start := time.Now(); time.Since(start) < MinCPUWindow+50*time.Millisecond; {
		for range 100000 {
			x = math.Sqrt(x + 1)
		}
	}
	block := make([]byte, 64<<20)
	for i := 0; i < len(block); i += 4096 {
		block[i] = byte(x)
	}
	after := s.Sample()
	runtime.KeepAlive(block)
	if after.CPUPercent <= 0 || after.CPUPercent > 100.5 {
		t.Errorf("CPU after a busy loop: %.1f%% of the machine; want in (0, 100]", after.CPUPercent)
	}
	if soon := s.Sample(); soon.CPUPercent != after.CPUPercent {
		t.Errorf("a sample right after another measured a new window: %.2f%%, then %.2f%%", after.CPUPercent, soon.CPUPercent)
	}
	if after.RSSBytes < before.RSSBytes+48<<20 {
		t.Errorf("RSS %.0f MiB after touching 64 MiB (before %.0f MiB)", after.RSSBytes/(1<<20), before.RSSBytes/(1<<20))
	}
	if after.PeakRSSBytes < after.RSSBytes {
		t.Errorf("peak %.0f < current %.0f", after.PeakRSSBytes, after.RSSBytes)
	}
	if after.GPUs != nil {
		t.Errorf("GPUs %v with GPU sampling off", after.GPUs)
	}
}

func TestEveryStopsOnClose(t *testing.T) {
	s := New(Options{NvidiaSMI: "-"})
	var n atomic.Int32
	got := make(chan Sample, 100)
	s.Every(time.Millisecond, func(x Sample) { n.Add(1); got <- x })
	first := <-got
	if first.Time.IsZero() {
		t.Error("a periodic sample without a time")
	}
	s.Close()
	stopped := n.Load()
	time.Sleep(20 * time.Millisecond)
	if n.Load() != stopped {
		t.Errorf("%d samples after Close", n.Load()-stopped)
	}
	s.Close() // twice is fine
}

// fakeSMI writes a shell script that stands in for nvidia-smi (no NVIDIA driver on CI): it
// records its arguments, prints script, and exits with code.
func fakeSMI(t *testing.T, script string) (program, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	program, argsFile = filepath.Join(dir, "nvidia-smi"), filepath.Join(dir, "args")
	body := "#!/bin/sh\necho \"$@\" > " + argsFile + "\n" + script + "\n"
	if err := os.WriteFile(program, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return program, argsFile
}

// waitGPUs samples until the GPUs appear (nvidia-smi reports asynchronously).
func waitGPUs(s *Sampler) []GPU {
	for range 500 {
		if g := s.Sample().GPUs; g != nil {
			return g
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

func TestGPUFromNvidiaSMI(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in nvidia-smi is a shell script")
	}
	t.Setenv("CUDA_VISIBLE_DEVICES", "1")
	program, argsFile := fakeSMI(t, "echo '1, 87, 1024, 143771'\nexec sleep 60")
	s := New(Options{NvidiaSMI: program, GPUInterval: 500 * time.Millisecond})
	gpus := waitGPUs(s)
	s.Close() // kills the stand-in's sleep
	if len(gpus) != 1 || gpus[0].Index != 1 || gpus[0].UtilizationPercent != 87 || gpus[0].MemoryUsedBytes != 1<<30 {
		t.Fatalf("GPUs %+v; want GPU 1 at 87%%, 1 GiB", gpus)
	}
	args, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--query-gpu=" + gpuQuery, "--format=csv,noheader,nounits", "--loop-ms=500", "--id=1"} {
		if !strings.Contains(string(args), want) {
			t.Errorf("nvidia-smi called with %q, lacks %q", args, want)
		}
	}
}

func TestNoGPUIsQuiet(t *testing.T) {
	program, _ := fakeSMI(t, "echo 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.'\nexit 9")
	s := New(Options{NvidiaSMI: program})
	time.Sleep(50 * time.Millisecond)
	if g := s.Sample().GPUs; g != nil {
		t.Errorf("a failing nvidia-smi gave GPUs %v", g)
	}
	s.Close()

	s = New(Options{NvidiaSMI: filepath.Join(t.TempDir(), "absent")})
	if s.gpu != nil || s.Sample().GPUs != nil {
		t.Error("a missing nvidia-smi started a reader")
	}
	s.Close()

	t.Setenv("CUDA_VISIBLE_DEVICES", "")
	program, argsFile := fakeSMI(t, "echo '0, 1, 2, 3'")
	s = New(Options{NvidiaSMI: program})
	s.Close()
	if s.gpu != nil {
		t.Error("CUDA_VISIBLE_DEVICES hides every GPU, yet nvidia-smi was started")
	}
	if _, err := os.Stat(argsFile); err == nil {
		t.Error("nvidia-smi ran although no GPU is visible")
	}
}

// BenchmarkSample is the cost of one sample (CPU and memory from /proc, GPU readings from
// memory): compare it with the sampling interval to get the share of training time it takes.
func BenchmarkSample(b *testing.B) {
	s := New(Options{})
	defer s.Close()
	for b.Loop() {
		s.Sample()
	}
}
