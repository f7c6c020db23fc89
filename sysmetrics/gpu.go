package sysmetrics

import (
	"bufio"
	"io"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// gpuQuery is what nvidia-smi reports per GPU and line: index, utilisation in %, memory used
// and total in MiB.
const gpuQuery = "index,utilization.gpu,memory.used,memory.total"

// gpuReader keeps the latest line nvidia-smi printed for each GPU. One nvidia-smi process runs
// for the reader's whole life (--loop-ms), so taking a sample never starts a program. If our
// process dies, nvidia-smi's next write hits a closed pipe and it exits too.
type gpuReader struct {
	cmd  *exec.Cmd
	done chan struct{}

	mu   sync.Mutex
	gpus map[int]GPU
}

// startGPUReader starts nvidia-smi (program, or the one on PATH when "") reporting every
// interval; nil when there is none or it cannot start, or when CUDA_VISIBLE_DEVICES hides
// every GPU from this process. Only the GPUs CUDA_VISIBLE_DEVICES lists are queried.
func startGPUReader(program string, interval time.Duration) *gpuReader {
	if program == "" {
		var err error
		if program, err = exec.LookPath("nvidia-smi"); err != nil {
			return nil
		}
	}
	args := []string{"--query-gpu=" + gpuQuery, "--format=csv,noheader,nounits",
		"--loop-ms=" + strconv.FormatInt(max(interval.Milliseconds(), 100), 10)}
	if visible, set := os.LookupEnv("CUDA_VISIBLE_DEVICES"); set {
		visible = strings.TrimSpace(visible)
		if visible == "" || strings.HasPrefix(visible, "-") { // no GPU for this process
			return nil
		}
		args = append(args, "--id="+visible)
	}
	cmd := exec.Command(program, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil
	}
	if err := cmd.Start(); err != nil {
		return nil
	}
	r := &gpuReader{cmd: cmd, done: make(chan struct{}), gpus: map[int]GPU{}}
	go r.read(out)
	return r
}

// read stores each line's reading until nvidia-smi stops; then it waits for the process.
func (r *gpuReader) read(out io.Reader) {
	defer close(r.done)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if g, ok := parseGPULine(sc.Text()); ok {
			r.mu.Lock()
			r.gpus[g.Index] = g
			r.mu.Unlock()
		}
	}
	_ = r.cmd.Wait() // a failing nvidia-smi (no driver) leaves the reader without GPUs: absent quietly
}

// latest is the newest reading of every GPU, by index.
func (r *gpuReader) latest() []GPU {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.gpus) == 0 {
		return nil
	}
	out := make([]GPU, 0, len(r.gpus))
	for _, g := range r.gpus {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b GPU) int { return a.Index - b.Index })
	return out
}

// close stops nvidia-smi and waits until its output is read.
func (r *gpuReader) close() {
	_ = r.cmd.Process.Kill()
	<-r.done
}

// parseGPULine reads one line of nvidia-smi's CSV output for gpuQuery, "0, 35, 1234, 143771".
// A value nvidia-smi cannot give ("[N/A]", "[Not Supported]") becomes NaN; a line that is not
// such a record (a warning) is skipped.
func parseGPULine(line string) (GPU, bool) {
	f := strings.Split(line, ",")
	if len(f) != 4 {
		return GPU{}, false
	}
	index, err := strconv.Atoi(strings.TrimSpace(f[0]))
	if err != nil {
		return GPU{}, false
	}
	num := func(s string, scale float64) float64 {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return math.NaN()
		}
		return v * scale
	}
	const mib = 1 << 20
	return GPU{Index: index, UtilizationPercent: num(f[1], 1), MemoryUsedBytes: num(f[2], mib), MemoryTotalBytes: num(f[3], mib)}, true
}
