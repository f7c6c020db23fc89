package aelib

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The course's vanilla model: 476,720 parameters, each a value, a gradient and two Adam
// moments of 4 bytes; a batch of 256 through 784-256-128-32-128-256-784 forward and backward;
// MNIST's 70,000 images as float32.
func TestMemoryEstimateOfTheVanillaModel(t *testing.T) {
	cfg, _ := DefaultConfig(ModelVanilla)
	e, err := cfg.MemoryEstimate()
	if err != nil {
		t.Fatal(err)
	}
	perExample := int64(784 + 256 + 128 + 32 + 128 + 256 + 784)
	want := MemoryEstimate{Model: "vanilla", Params: 476720, ParamBytes: 476720 * 16, Batch: 256,
		Activations: 2 * 256 * perExample, ActBytes: 4 * 2 * 256 * perExample, DataBytes: 70000 * 784 * 4}
	want.Total = want.ParamBytes + want.ActBytes + want.DataBytes
	if e != want {
		t.Errorf("estimate\n got  %+v\n want %+v", e, want)
	}
	// Noise keeps a noisy copy of the inputs used; a subset smaller than the batch shrinks it.
	cfg.Noise, cfg.TrainSubset, cfg.TestSubset = 0.5, 100, 50
	e, _ = cfg.MemoryEstimate()
	if e.DataBytes != (70000+150)*784*4 || e.Batch != 100 || e.Activations != 256*perExample {
		t.Errorf("noise 0.5, subsets 100/50: %+v", e)
	}
}

// The convolutional model's activations grow with its filters and the image.
func TestMemoryEstimateOfTheConvolutionalModel(t *testing.T) {
	cfg, _ := DefaultConfig(ModelDenoise)
	e, err := cfg.MemoryEstimate()
	if err != nil {
		t.Fatal(err)
	}
	f := int64(32)
	// input, reshape, conv, pool, conv, pool | conv, up, conv, up, output conv, flatten
	perExample := 784 + 784 + 28*28*f + 14*14*f + 14*14*f + 7*7*f + 7*7*f + 14*14*f + 14*14*f + 28*28*f + 784 + 784
	if e.Params != 28353 || e.Batch != 128 || e.Activations != 256*perExample {
		t.Errorf("denoise: %+v, want 28,353 params and %d activations", e, 256*perExample)
	}
}

// widths 200000000,128,32: 365 billion parameters, counted without overflow, and no machine
// of today has the 6 TB training them takes.
func TestHugeWidthsDoNotFit(t *testing.T) {
	cfg, _ := DefaultConfig(ModelVanilla)
	cfg.Widths = []int{200_000_000, 128, 32}
	e, err := cfg.MemoryEstimate()
	if err != nil {
		t.Fatal(err)
	}
	w := int64(200_000_000)
	params := (784*w + w) + (w*128 + 128) + (128*32 + 32) + (32*128 + 128) + (128*w + w) + (w*784 + 784)
	if e.Params != params || e.ParamBytes != 16*params {
		t.Errorf("params %d (%d bytes), want %d", e.Params, e.ParamBytes, params)
	}
	t.Setenv(MemoryLimitEnv, "64G")
	err = cfg.CheckMemory()
	var me *MemoryError
	if !errors.As(err, &me) || me.Available.Bytes != 64<<30 || me.Available.Source != MemoryLimitEnv {
		t.Fatalf("CheckMemory: %v, want a *MemoryError against 64 GB", err)
	}
	want := "model vanilla does not fit in memory: training it takes about 6.06 TB: parameters 5.31 TB (365,200,009,264 of them: value, gradient, Adam's two moments), activations 762.94 GB (a batch of 256, forward and backward), data 209.35 MB"
	if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "; 64.00 GB available (AELAB_MEMORY_LIMIT)") || strings.Contains(err.Error(), "\n") {
		t.Errorf("message %q\n want it to start %q", err, want)
	}
	// The default model fits in 1 GB and not in 100 MB.
	small, _ := DefaultConfig(ModelVanilla)
	t.Setenv(MemoryLimitEnv, "1G")
	if err := small.CheckMemory(); err != nil {
		t.Errorf("vanilla in 1 GB: %v", err)
	}
	t.Setenv(MemoryLimitEnv, "100M")
	if err := small.CheckMemory(); !errors.As(err, &me) {
		t.Errorf("vanilla in 100 MB: %v", err)
	}
}

// Sizes whose products would overflow an int64 are refused, never counted wrong.
func TestAbsurdSizesAreRefused(t *testing.T) {
	for _, c := range []struct {
		model   string
		widths  []int
		filters int
	}{
		{ModelVanilla, []int{9_000_000_000_000_000_000, 32}, 0},
		{ModelDeep, []int{3_000_000_000, 3_000_000_000}, 0},
		{ModelVanilla, []int{200_000_000, 200_000_000}, 0}, // countable, 8·10¹⁶ parameters
		{ModelDenoise, nil, 1 << 40},
		{ModelVAE, []int{1 << 50}, 0},
	} {
		cfg, _ := DefaultConfig(c.model)
		if c.widths != nil {
			cfg.Widths = c.widths
		}
		if c.filters != 0 {
			cfg.Filters = c.filters
		}
		err := cfg.CheckSize()
		if err == nil || !strings.Contains(err.Error(), "is too large to train") || !strings.Contains(err.Error(), "1,000,000,000,000") {
			t.Errorf("%s %v %d: %v, want too large", c.model, c.widths, c.filters, err)
		}
		if _, err := cfg.MemoryEstimate(); err == nil {
			t.Errorf("%s %v: estimated", c.model, c.widths)
		}
	}
}

func TestAvailableMemoryReadsTheLimitOrTheMachine(t *testing.T) {
	for v, want := range map[string]int64{"123456": 123456, "512M": 512 << 20, "8g": 8 << 30, " 2T ": 2 << 40} {
		t.Setenv(MemoryLimitEnv, v)
		if a, ok, err := AvailableMemory(); err != nil || !ok || a.Bytes != want {
			t.Errorf("%s=%q: %+v %v %v, want %d", MemoryLimitEnv, v, a, ok, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "-1", "9999999999T", "1.5G"} {
		t.Setenv(MemoryLimitEnv, bad)
		if _, _, err := AvailableMemory(); err == nil || !strings.Contains(err.Error(), MemoryLimitEnv) {
			t.Errorf("%s=%q: %v, want an error naming it", MemoryLimitEnv, bad, err)
		}
	}
	// Unset, the machine says: on Linux at least MemAvailable.
	os.Unsetenv(MemoryLimitEnv) // t.Setenv above restores it after the test
	if _, err := os.Stat("/proc/meminfo"); err == nil {
		if a, ok, err := AvailableMemory(); err != nil || !ok || a.Bytes <= 0 || a.Source == MemoryLimitEnv {
			t.Errorf("this Linux machine's memory: %+v %v %v", a, ok, err)
		}
	}
	dir := t.TempDir()
	meminfo := filepath.Join(dir, "meminfo")
	write(t, meminfo, "MemTotal:       32000000 kB\nMemFree:         1000000 kB\nMemAvailable:   23809752 kB\n")
	if n, ok := memAvailable(meminfo); !ok || n != 23809752*1024 {
		t.Errorf("MemAvailable: %d %v", n, ok)
	}
	if _, ok := memAvailable(filepath.Join(dir, "none")); ok {
		t.Error("a missing meminfo says something")
	}
}

// The tightest cgroup limit less its use, at any level of the process's group; v1's "no
// limit" and v2's "max" are no limit.
func TestCgroupAvailable(t *testing.T) {
	root := t.TempDir()
	proc := filepath.Join(root, "cgroup")
	// cgroup v2: the group /a/b has no limit, its parent /a has 1,000,000 with 400,000 used.
	write(t, proc, "0::/a/b\n")
	write(t, filepath.Join(root, "a/b/memory.max"), "max\n")
	write(t, filepath.Join(root, "a/b/memory.current"), "100\n")
	write(t, filepath.Join(root, "a/memory.max"), "1000000\n")
	write(t, filepath.Join(root, "a/memory.current"), "400000\n")
	if n, ok := cgroupAvailable(root, proc); !ok || n != 600000 {
		t.Errorf("v2: %d %v, want 600000", n, ok)
	}
	// cgroup v1: the memory controller's group has 5,000 with 1,000 used; its root has none.
	write(t, proc, "9:name=systemd:/\n4:memory:/x\n0::/\n")
	write(t, filepath.Join(root, "memory/x/memory.limit_in_bytes"), "5000\n")
	write(t, filepath.Join(root, "memory/x/memory.usage_in_bytes"), "1000\n")
	write(t, filepath.Join(root, "memory/memory.limit_in_bytes"), "9223372036854771712\n")
	write(t, filepath.Join(root, "memory/memory.usage_in_bytes"), "2474491904\n")
	if n, ok := cgroupAvailable(root, proc); !ok || n != 4000 {
		t.Errorf("v1: %d %v, want 4000", n, ok)
	}
	write(t, proc, "4:memory:/\n")
	if n, ok := cgroupAvailable(root, proc); ok {
		t.Errorf("no limit: %d, want none", n)
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBytesUpToPetabytes(t *testing.T) {
	for n, want := range map[int]string{512: "512 B", 1907: "1.86 KB", 476720 * 4: "1.82 MB", 8 << 30: "8.00 GB",
		5_843_200_148_224: "5.31 TB", 3 << 50: "3.00 PB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
