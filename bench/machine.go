package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes the CPU for a speed table: "AMD EPYC (family 25 model 17, 2 CPUs, AVX-512)".
// /proc/cpuinfo's model name alone can be as vague as "AMD EPYC" on a virtual machine, so the
// family and model numbers and the widest vector extension come with it.
func Machine() string {
	info := cpuInfo()
	name := info["model name"]
	if name == "" {
		name = runtime.GOARCH
	}
	var details []string
	if f, m := info["cpu family"], info["model"]; f != "" && m != "" {
		details = append(details, "family "+f+" model "+m)
	}
	details = append(details, fmt.Sprintf("%d CPUs", runtime.NumCPU()))
	flags := " " + info["flags"] + " "
	switch {
	case strings.Contains(flags, " avx512f "):
		details = append(details, "AVX-512")
	case strings.Contains(flags, " avx2 "):
		details = append(details, "AVX2")
	}
	return fmt.Sprintf("%s (%s)", name, strings.Join(details, ", "))
}

// cpuInfo returns the fields of the first processor in /proc/cpuinfo (empty elsewhere).
func cpuInfo() map[string]string {
	info := map[string]string{}
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return info
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20) // the flags line is long
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break // end of the first processor
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			info[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return info
}

// LoadAverage is the 1-, 5- and 15-minute load average as /proc/loadavg writes it ("2.31 2.17
// 1.29"), or "unknown".
func LoadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(raw))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}

// RSS is this process's resident memory now and at its peak since the last ResetPeakRSS, in
// MiB (VmRSS and VmHWM of /proc/self/status); zeros where Linux's /proc is missing.
func RSS() (now, peak float64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kib, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if err != nil {
			continue
		}
		if k == "VmRSS" {
			now = kib / 1024
		} else {
			peak = kib / 1024
		}
	}
	return now, peak
}

// ResetPeakRSS starts a new peak for RSS (Linux: writing 5 to /proc/self/clear_refs), so each
// model of one process gets its own. It fails quietly where that is not possible; RSS's peak
// is then the process's.
func ResetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}
