package aelib

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aelab/aelab/aelib/data"
)

// This file says, from a config alone, how much memory training it takes, and whether the
// machine has it: a model too large for the machine is refused with one line before anything
// is built, instead of the Go runtime dying out of memory halfway.

// MaxParams is the most trainable parameters an architecture may have. Beyond it a size is
// refused as absurd before any arithmetic on it can overflow: training 10¹² parameters with
// Adam takes 16 TB.
const MaxParams = 1_000_000_000_000

// maxSize bounds every size aelib multiplies (a layer's values per example, a product of
// dimensions): 2⁵³, so a checked product of two of them never overflows an int64 unnoticed.
const maxSize = 1 << 53

// Examples in the splits of the data sets data.Load knows (MNIST and Fashion-MNIST alike): the
// whole data set is loaded whatever the subsets.
const (
	fullTrainExamples = 60000
	fullTestExamples  = 10000
)

// sizeProduct multiplies sizes >= 0; ok is false when the product passes maxSize.
func sizeProduct(dims ...int) (p int, ok bool) {
	p = 1
	for _, d := range dims {
		if d < 0 || d > maxSize || (d > 0 && p > maxSize/d) {
			return 0, false
		}
		p *= d
	}
	return p, true
}

// checkSize refuses an architecture whose sizes could overflow when its layers are shaped and
// counted, from its layers' widths alone: every layer's parameters are at most
// 2·(9·in·units + units), in being at most the largest of the input's size and the widths
// before. What passes is counted exactly by Shapes, and refused past MaxParams by
// checkParams.
func (a Architecture) checkSize() error {
	tooLarge := fmt.Errorf("model %s is too large to train: its sizes pass aelab's limit of %s parameters", a.Name, Thousands(MaxParams))
	in, ok := sizeProduct(a.Input...)
	if !ok {
		return tooLarge
	}
	bound := int64(0)
	for _, l := range a.Layers {
		shape, ok := sizeProduct(l.Shape...)
		if !ok || l.Units < 0 || l.Units > maxSize {
			return tooLarge
		}
		in = max(in, shape)
		bound = satAdd(bound, satMul(2, satAdd(satMul(satMul(9, int64(in)), int64(l.Units)), int64(l.Units))))
		in = max(in, l.Units)
	}
	if bound > math.MaxInt64/4 { // what Shapes and Params then add up stays far from overflowing
		return tooLarge
	}
	return nil
}

// checkParams refuses shaped layers with more than MaxParams parameters in all.
func checkParams(name string, rows []LayerShape) error {
	total := 0
	for _, r := range rows {
		total += r.Params
	}
	if total > MaxParams {
		return fmt.Errorf("model %s is too large to train: %s parameters, more than aelab's limit of %s", name, Thousands(total), Thousands(MaxParams))
	}
	return nil
}

// CheckSize refuses a config whose model is absurdly large (more than MaxParams parameters)
// before any of its sizes is multiplied, so that no count overflows; then it checks the
// config as Validate does.
func (c Config) CheckSize() error {
	v, err := LookupVariant(c.Model)
	if err != nil {
		return err
	}
	if a, err := v.architecture(c); err == nil {
		if err := a.checkSize(); err != nil {
			return err
		}
	}
	if err := c.Validate(); err != nil {
		return err
	}
	a, _ := c.Architecture()
	rows, _ := a.Shapes()
	return checkParams(a.Name, rows)
}

// satAdd and satMul add and multiply byte counts >= 0, saturating at math.MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func satMul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

// MemoryEstimate is what training a config takes in memory, by part, in bytes. It counts what
// grows with the model and the data, not the program and the backend themselves.
type MemoryEstimate struct {
	Model       string
	Params      int64 // trainable parameters
	ParamBytes  int64 // Params × 4 float32s: the value, its gradient and Adam's two moments
	Batch       int   // the training batch the activations are counted for
	Activations int64 // values of one batch in every layer's output, kept for the backward pass, and their gradients
	ActBytes    int64
	DataBytes   int64 // the data set as float32 pixels, with the noisy copy of the inputs used when noise > 0
	Total       int64
}

// MemoryEstimate estimates the memory training the config takes: its parameters with their
// gradients and Adam's moments, a training batch's activations forward and backward (or an
// inference batch's, whichever is larger), and the data. It fails for a config that does not
// validate or whose model is absurdly large (CheckSize).
func (c Config) MemoryEstimate() (MemoryEstimate, error) {
	if err := c.CheckSize(); err != nil {
		return MemoryEstimate{}, err
	}
	a, err := c.Architecture()
	if err != nil {
		return MemoryEstimate{}, err
	}
	rows, err := a.Shapes()
	if err != nil {
		return MemoryEstimate{}, err
	}
	trainN, testN := subsetSize(c.TrainSubset, fullTrainExamples), subsetSize(c.TestSubset, fullTestExamples)
	e := MemoryEstimate{Model: c.Model, Batch: max(min(c.BatchSize, trainN), 1)}
	perExample := int64(product(a.Input))
	for _, r := range rows {
		e.Params += int64(r.Params)
		values := int64(product(r.Output))
		if r.Kind == KindGaussian {
			values *= 3 // mean, log-variance and the sample
		}
		perExample = satAdd(perExample, values)
	}
	if c.Model == ModelContractive { // the encoder Jacobian's per-example matrices, code × each hidden width
		code := int64(a.LatentSize())
		for _, r := range rows[:a.encoderEnd()] {
			perExample = satAdd(perExample, satMul(code, int64(product(r.Output))))
		}
	}
	e.Activations = max(satMul(2*int64(e.Batch), perExample), satMul(inferenceBatch, perExample))
	e.ActBytes = satMul(e.Activations, 4)
	e.ParamBytes = satMul(e.Params, 4*4)
	e.DataBytes = int64(fullTrainExamples+fullTestExamples) * data.Pixels * 4
	if c.Noise > 0 {
		e.DataBytes += int64(trainN+testN) * data.Pixels * 4
	}
	e.Total = satAdd(satAdd(e.ParamBytes, e.ActBytes), e.DataBytes)
	return e, nil
}

// subsetSize is the examples a subset setting uses of a split of n.
func subsetSize(subset, n int) int {
	if subset > 0 && subset < n {
		return subset
	}
	return n
}

// String says what the estimate is made of, the total first: for the vanilla model "221.25 MB:
// parameters 7.27 MB (476,720 of them: value, gradient, Adam's two moments), activations
// 4.62 MB (a batch of 256, forward and backward), data 209.35 MB".
func (e MemoryEstimate) String() string {
	return fmt.Sprintf("%s: parameters %s (%s of them: value, gradient, Adam's two moments), activations %s (a batch of %d, forward and backward), data %s",
		Bytes(int(e.Total)), Bytes(int(e.ParamBytes)), Thousands(int(e.Params)), Bytes(int(e.ActBytes)), e.Batch, Bytes(int(e.DataBytes)))
}

// MemoryLimitEnv names the environment variable that, when set, is the memory in bytes a
// training may use (optionally with a K, M, G or T suffix, powers of 1024), in place of what
// the machine reports: for a machine shared with other work, and for tests.
const MemoryLimitEnv = "AELAB_MEMORY_LIMIT"

// Available is the memory a new training may use and where the figure comes from.
type Available struct {
	Bytes  int64
	Source string // MemoryLimitEnv, "MemAvailable in /proc/meminfo" or "this process's cgroup memory limit less its use"
}

// AvailableMemory is the memory a training may use: AELAB_MEMORY_LIMIT when set; otherwise
// the smaller of Linux's MemAvailable (/proc/meminfo) and what this process's cgroups leave
// (memory.max − memory.current, at each level up to the root; cgroup v1's limit_in_bytes −
// usage_in_bytes). ok is false when nothing says (not Linux); err is a malformed
// AELAB_MEMORY_LIMIT.
func AvailableMemory() (a Available, ok bool, err error) {
	if v, set := os.LookupEnv(MemoryLimitEnv); set {
		n, err := parseBytes(v)
		if err != nil {
			return a, false, fmt.Errorf("%s=%q: %w", MemoryLimitEnv, v, err)
		}
		return Available{Bytes: n, Source: MemoryLimitEnv}, true, nil
	}
	if n, found := memAvailable("/proc/meminfo"); found {
		a, ok = Available{Bytes: n, Source: "MemAvailable in /proc/meminfo"}, true
	}
	if n, found := cgroupAvailable("/sys/fs/cgroup", "/proc/self/cgroup"); found && (!ok || n < a.Bytes) {
		a, ok = Available{Bytes: n, Source: "this process's cgroup memory limit less its use"}, true
	}
	return a, ok, nil
}

// parseBytes reads "1073741824", "512M" or "4G" (powers of 1024).
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	if i := len(s) - 1; i > 0 {
		if k := strings.IndexByte("KMGT", s[i]&^0x20); k >= 0 {
			mult, s = int64(1)<<(10*(k+1)), s[:i]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || satMul(n, mult) == math.MaxInt64 {
		return 0, errors.New("want a number of bytes >= 0, such as 8589934592 or 8G")
	}
	return n * mult, nil
}

// memAvailable reads MemAvailable (kB) from a /proc/meminfo.
func memAvailable(path string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemAvailable:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			return kb * 1024, err == nil && kb >= 0
		}
	}
	return 0, false
}

// noLimit is where a cgroup v1 limit means "none" (the kernel reports about 2⁶³).
const noLimit = 1 << 60

// cgroupAvailable is the least memory left under the limits of the cgroups procCgroup (a
// /proc/self/cgroup) names, read under root (a /sys/fs/cgroup); found is false when no level
// has a limit.
func cgroupAvailable(root, procCgroup string) (left int64, found bool) {
	b, err := os.ReadFile(procCgroup)
	if err != nil {
		return 0, false
	}
	consider := func(limit, usage string) {
		l, err1 := readInt(limit)
		u, err2 := readInt(usage)
		if err1 != nil || err2 != nil || l >= noLimit {
			return
		}
		if n := max(l-u, 0); !found || n < left {
			left, found = n, true
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		var dir, limit, usage string
		switch {
		case parts[0] == "0" && parts[1] == "": // cgroup v2
			dir, limit, usage = root, "memory.max", "memory.current"
			if _, err := os.Stat(filepath.Join(root, "unified")); err == nil {
				dir = filepath.Join(root, "unified")
			}
		case strings.Contains(","+parts[1]+",", ",memory,"): // cgroup v1
			dir, limit, usage = filepath.Join(root, "memory"), "memory.limit_in_bytes", "memory.usage_in_bytes"
		default:
			continue
		}
		// The process's own group, then each parent up to the root of the hierarchy (in a
		// container the path is often not there: its root is the container's group).
		for p := filepath.Clean("/" + parts[2]); ; p = filepath.Dir(p) {
			consider(filepath.Join(dir, p, limit), filepath.Join(dir, p, usage))
			if p == "/" {
				break
			}
		}
	}
	return left, found
}

// readInt reads a file holding one integer ("max" is an error: no limit).
func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

// MemoryError is a config refused because training it takes more memory than the machine has.
type MemoryError struct {
	Estimate  MemoryEstimate
	Available Available
}

func (e *MemoryError) Error() string {
	return fmt.Sprintf("model %s does not fit in memory: training it takes about %s; %s available (%s)",
		e.Estimate.Model, e.Estimate, Bytes(int(e.Available.Bytes)), e.Available.Source)
}

// CheckMemory refuses a config whose training takes more memory than AvailableMemory leaves,
// with a *MemoryError; it also fails for a config that cannot be estimated (Architecture) or
// a malformed AELAB_MEMORY_LIMIT. Nothing is built or allocated. Where the machine says
// nothing of its memory, every config that can be estimated passes.
func (c Config) CheckMemory() error {
	e, err := c.MemoryEstimate()
	if err != nil {
		return err
	}
	avail, ok, err := AvailableMemory()
	if err != nil || !ok {
		return err
	}
	if e.Total > avail.Bytes {
		return &MemoryError{Estimate: e, Available: avail}
	}
	return nil
}
