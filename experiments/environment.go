package experiments

import (
	"maps"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/gomlx/compute"

	"github.com/aelab/aelab/aelib"
	"github.com/aelab/aelab/aelib/data"
)

// Environment returns the tags that describe where a run trained: Go and GoMLX versions,
// backend and device, host, CPU count, git commit and dirty flag, and the command line.
func Environment(b compute.Backend, choice aelib.BackendChoice) map[string]string {
	return environment(choice.Name, choice.Reason, aelib.Device(b))
}

// environment is Environment's tags for a backend by name, description and device: aelab's
// own backends or a peer's (PeerEnv).
func environment(backend, info, device string) map[string]string {
	env := map[string]string{
		"env.go_version":   runtime.Version(),
		"env.gomlx":        moduleVersion("github.com/gomlx/gomlx"),
		"env.backend":      backend,
		"env.backend_info": info,
		"env.device":       device,
		"env.os_arch":      runtime.GOOS + "/" + runtime.GOARCH,
		"env.cpus":         strconv.Itoa(runtime.NumCPU()),
		"env.command":      strings.Join(os.Args, " "),
	}
	if host, err := os.Hostname(); err == nil {
		env["env.host"] = host
	}
	if commit, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		env["env.git_commit"] = strings.TrimSpace(string(commit))
		status, _ := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output()
		env["env.git_dirty"] = strconv.FormatBool(len(strings.TrimSpace(string(status))) > 0)
	}
	return env
}

// moduleVersion is the version of a dependency compiled into this binary, or "unknown".
func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path == path {
			return dep.Version
		}
	}
	return "unknown"
}

// DataTags are the tags that say where a run's data came from: data.dir, the folder of its idx
// files, and data.<role>_sha256, each file's digest (aelib/data.Dataset.Digests); none for data
// made in memory.
func DataTags(ds *data.Dataset) map[string]string {
	tags := map[string]string{}
	if ds.Dir != "" {
		tags["data.dir"] = ds.Dir
	}
	for role, digest := range ds.Digests {
		tags["data."+role+"_sha256"] = digest
	}
	return tags
}

// mergeTags is the union of tag sets, later ones winning.
func mergeTags(sets ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, s := range sets {
		maps.Copy(out, s)
	}
	return out
}
