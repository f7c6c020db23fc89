package aelib

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/go-xla/compute/xla"
	_ "github.com/gomlx/gomlx/backends/default" // pure Go and XLA; ONNX Runtime with -tags onnx
)

// BackendChoice is the backend NewBackend picked and why.
type BackendChoice struct {
	Config string // what compute.NewWithConfig receives: "go", "onnx:cpu", "xla:/path/xla_cuda_plugin.so"
	Name   string // short name: "go", "onnx", "xla-cuda", or the user's setting
	Reason string // one line for people
}

func (c BackendChoice) String() string { return fmt.Sprintf("%s (%s)", c.Name, c.Reason) }

// Environment variables NewBackend reads or sets.
const (
	envBackend       = "GOMLX_BACKEND"
	envNoAutoInstall = "GOMLX_NO_AUTO_INSTALL"
	envPJRTPath      = "PJRT_PLUGIN_LIBRARY_PATH"
	envORTLibrary    = "ONNXRUNTIME_SHARED_LIBRARY_PATH"
	envCache         = "AELAB_CACHE"
	envORTTelemetry  = "ORT_DISABLE_TELEMETRY"
)

// backendEnv is what ChooseBackend looks at, as functions so tests can fake a machine.
type backendEnv struct {
	getenv    func(string) string
	glob      func(pattern string) []string
	exists    func(path string) bool
	onnxBuilt bool // compiled with -tags onnx
}

func hostBackendEnv() backendEnv {
	return backendEnv{
		getenv: os.Getenv,
		glob: func(p string) []string {
			m, _ := filepath.Glob(p)
			return m
		},
		exists: func(p string) bool {
			_, err := os.Stat(p)
			return err == nil
		},
		onnxBuilt: onnxBuilt,
	}
}

// ChooseBackend decides which GoMLX backend to use on this machine, in order:
//  1. $GOMLX_BACKEND, when the user set it;
//  2. XLA with a CUDA PJRT plugin: $PJRT_PLUGIN_LIBRARY_PATH, or JAX's
//     jax_plugins/xla_cuda*/xla_cuda_plugin.so in a Python site-packages;
//     or a plugin go-xla's installer put in /usr/local/lib/go-xla or ~/.local/lib/go-xla (the
//     CUDA Docker image);
//  3. XLA on the CPU, when go-xla's CPU plugin is installed there (the CPU Docker image);
//  4. ONNX Runtime on the CPU, when aelab was built with -tags onnx and the library is at
//     $ONNXRUNTIME_SHARED_LIBRARY_PATH or $AELAB_CACHE/onnxruntime/libonnxruntime.so.1
//     (where `make setup` puts it);
//  5. GoMLX's pure-Go backend, which always works.
func ChooseBackend() BackendChoice { return chooseBackend(hostBackendEnv()) }

func chooseBackend(env backendEnv) BackendChoice {
	if cfg := env.getenv(envBackend); cfg != "" {
		return BackendChoice{Config: cfg, Name: cfg, Reason: "set by $" + envBackend}
	}
	if plugin := findCUDAPlugin(env); plugin != "" {
		return BackendChoice{Config: "xla:" + plugin, Name: "xla-cuda", Reason: "CUDA PJRT plugin " + plugin}
	}
	// go-xla finds the plugins its installer wrote (and their NVIDIA libraries) by name.
	for _, p := range []struct{ plugin, name string }{{"cuda", "xla-cuda"}, {"cpu", "xla-cpu"}} {
		if dir := findGoXLAPlugin(env, p.plugin); dir != "" {
			return BackendChoice{Config: "xla:" + p.plugin, Name: p.name, Reason: "go-xla's " + p.plugin + " PJRT plugin in " + dir}
		}
	}
	if env.onnxBuilt {
		if lib := findONNXRuntime(env); lib != "" {
			return BackendChoice{Config: "onnx:cpu", Name: "onnx", Reason: "ONNX Runtime on CPU, " + lib}
		}
	}
	reason := "pure Go (no XLA plugin"
	if env.onnxBuilt {
		reason += ", no ONNX Runtime library: run `make setup`)"
	} else {
		reason += "; built without -tags onnx)"
	}
	return BackendChoice{Config: "go", Name: "go", Reason: reason}
}

// findCUDAPlugin returns the absolute path of a CUDA PJRT plugin, or "".
func findCUDAPlugin(env backendEnv) string {
	var patterns []string
	if dirs := env.getenv(envPJRTPath); dirs != "" {
		for _, dir := range filepath.SplitList(dirs) {
			if strings.HasSuffix(dir, ".so") {
				patterns = append(patterns, dir)
				continue
			}
			patterns = append(patterns, filepath.Join(dir, "pjrt_c_api_cuda*.so"), filepath.Join(dir, "xla_cuda_plugin.so"))
		}
	}
	for _, site := range pythonSitePackages(env) {
		patterns = append(patterns, filepath.Join(site, "jax_plugins", "xla_cuda*", "xla_cuda_plugin.so"))
	}
	for _, p := range patterns {
		matches := env.glob(p)
		sort.Sort(sort.Reverse(sort.StringSlice(matches))) // newest CUDA first: xla_cuda13 before xla_cuda12
		for _, m := range matches {
			if abs, err := filepath.Abs(m); err == nil && env.exists(abs) {
				return abs
			}
		}
	}
	return ""
}

// findGoXLAPlugin returns the go-xla folder holding the named PJRT plugin ("cuda", "cpu"),
// or "": go-xla's installer puts them in /usr/local/lib/go-xla or ~/.local/lib/go-xla.
func findGoXLAPlugin(env backendEnv, name string) string {
	for _, dir := range []string{"/usr/local/lib/go-xla", filepath.Join(env.getenv("HOME"), ".local", "lib", "go-xla")} {
		if len(env.glob(filepath.Join(dir, "pjrt_c_api_"+name+"*.so"))) > 0 {
			return dir
		}
	}
	return ""
}

// pythonSitePackages returns glob patterns of the Python site-packages folders where JAX may
// have installed its CUDA plugin: those of the Pythons on $PATH and of an active virtualenv or
// conda environment first (GPU images often keep JAX in a venv such as /opt/torch/.venv), then
// the usual system, user and /opt locations.
func pythonSitePackages(env backendEnv) []string {
	var prefixes []string
	for _, v := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if dir := env.getenv(v); dir != "" {
			prefixes = append(prefixes, dir)
		}
	}
	for _, dir := range filepath.SplitList(env.getenv("PATH")) {
		if dir != "" && len(env.glob(filepath.Join(dir, "python3*"))) > 0 {
			prefixes = append(prefixes, filepath.Dir(dir)) // .../bin/python3 → ...
		}
	}
	prefixes = append(prefixes, "/usr/local", "/usr", "/opt/conda", "/opt/*", "/opt/*/.venv", "/opt/*/venv",
		env.getenv("HOME")+"/.local", "/root/.pyenv/versions/*")
	var sites []string
	for _, p := range prefixes {
		sites = append(sites, filepath.Join(p, "lib", "python3*", "site-packages"), filepath.Join(p, "lib", "python3*", "dist-packages"))
	}
	return append(sites, "/usr/lib/python3/dist-packages")
}

// findONNXRuntime returns the path of the ONNX Runtime shared library, or "".
func findONNXRuntime(env backendEnv) string {
	if lib := env.getenv(envORTLibrary); lib != "" && env.exists(lib) {
		return lib
	}
	lib := filepath.Join(CacheDir(env.getenv), "onnxruntime", "libonnxruntime.so.1")
	if env.exists(lib) {
		return lib
	}
	return ""
}

// CacheDir is aelab's cache folder: $AELAB_CACHE, else $XDG_CACHE_HOME/aelab, else ~/.cache/aelab.
func CacheDir(getenv func(string) string) string {
	if dir := getenv(envCache); dir != "" {
		return dir
	}
	if dir := getenv("XDG_CACHE_HOME"); dir != "" {
		return filepath.Join(dir, "aelab")
	}
	return filepath.Join(getenv("HOME"), ".cache", "aelab")
}

// NewBackend creates the backend ChooseBackend picks. GoMLX never downloads a plugin or a
// library from here: auto-install is switched off, and XLA gets the plugin's absolute path.
func NewBackend() (compute.Backend, BackendChoice, error) {
	choice := ChooseBackend()
	b, err := NewBackendFor(choice)
	return b, choice, err
}

// NewBackendFor creates the backend of a choice.
func NewBackendFor(choice BackendChoice) (b compute.Backend, err error) {
	if err := CheckBackend(choice.Config); err != nil {
		return nil, fmt.Errorf("%w (%s)", err, choice.Reason)
	}
	if os.Getenv(envNoAutoInstall) == "" {
		os.Setenv(envNoAutoInstall, "1") // for child processes; GoMLX read it at start-up
	}
	xla.EnableAutoInstall(false)
	switch {
	case choice.Name == "onnx" || strings.HasPrefix(choice.Config, "onnx"): // picked, or asked for ("onnx:cpu")
		if os.Getenv(envORTLibrary) == "" {
			os.Setenv(envORTLibrary, findONNXRuntime(hostBackendEnv()))
		}
		// ONNX Runtime 1.30's telemetry (Microsoft's 1DS SDK, started by CreateEnv) writes an
		// empty $TMPDIR/mat-debug-<pid>.log, $TMPDIR/.ses and an event database under
		// ~/.cache/Microsoft, and would upload the events over HTTPS; ORT_DISABLE_TELEMETRY=1,
		// read when the environment is created, keeps it from starting at all.
		if os.Getenv(envORTTelemetry) == "" {
			os.Setenv(envORTTelemetry, "1")
		}
	case choice.Name == "xla-cuda" && filepath.IsAbs(strings.TrimPrefix(choice.Config, "xla:")):
		setCUDADataDir(strings.TrimPrefix(choice.Config, "xla:"))
	}
	defer func() { // GoMLX panics on some bad configs; this is an API edge
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("creating GoMLX backend %q (%s): %v", choice.Config, choice.Reason, r)
		}
	}()
	b, err = compute.NewWithConfig(choice.Config)
	if err != nil {
		return nil, fmt.Errorf("creating GoMLX backend %q (%s): %w", choice.Config, choice.Reason, err)
	}
	return b, nil
}

// CheckBackend checks that a GoMLX backend config ("go", "onnx:cpu", "xla:/path/plugin.so")
// names a backend built into this program; the error lists those that are.
func CheckBackend(config string) error {
	name, _, _ := strings.Cut(config, ":")
	known := slices.Sorted(slices.Values(compute.List()))
	if !slices.Contains(known, name) {
		return fmt.Errorf("unknown backend %q (backends here: %s)", name, strings.Join(known, ", "))
	}
	return nil
}

// setCUDADataDir points XLA at the CUDA tools that pip's nvidia packages install next to
// JAX's plugin (site-packages/nvidia/cu13), unless XLA_FLAGS already says where they are.
func setCUDADataDir(plugin string) {
	if strings.Contains(os.Getenv("XLA_FLAGS"), "xla_gpu_cuda_data_dir") {
		return
	}
	site := filepath.Dir(filepath.Dir(filepath.Dir(plugin))) // .../site-packages
	for _, dir := range []string{"cu13", "cu12", "cuda_nvcc"} {
		p := filepath.Join(site, "nvidia", dir)
		if _, err := os.Stat(p); err == nil {
			os.Setenv("XLA_FLAGS", strings.TrimSpace(os.Getenv("XLA_FLAGS")+" --xla_gpu_cuda_data_dir="+p))
			return
		}
	}
}

// Device describes the machine a backend runs on, for logs and the tracker.
func Device(b compute.Backend) string {
	desc := b.Description()
	if desc == "" {
		desc = b.Name()
	}
	return fmt.Sprintf("%s (%s/%s, %d CPUs)", desc, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
}
