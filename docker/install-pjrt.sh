#!/usr/bin/env bash
# docker/install-pjrt.sh KIND [LIBDIR] — install a GoMLX XLA (PJRT) plugin with go-xla's own installer.
#
#   KIND    cpu | cuda13 | cuda12
#   LIBDIR  default /usr/local/lib; the plugin lands in LIBDIR/go-xla/ (cpu) or LIBDIR/go-xla/nvidia/
#           (cuda, with the NVIDIA libraries it needs), where go-xla looks by default.
#
# Needs the internet (GitHub releases for cpu, pypi.org for cuda): for image builds only, never CI.
# Uses the go-xla version the repo's go.mod selects (GOXLA_VERSION overrides; CUDA_PJRT_VERSION
# picks the JAX plugin release, default latest).
set -euo pipefail
kind="${1:?usage: install-pjrt.sh cpu|cuda13|cuda12 [LIBDIR]}"
libdir="${2:-/usr/local/lib}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ver="${GOXLA_VERSION:-$(cd "$repo" && go list -m -f '{{.Version}}' github.com/gomlx/go-xla 2>/dev/null || echo v0.4.1)}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export GOWORK=off GOFLAGS="$(go env GOFLAGS | sed -E 's/(^| )-mod=[^ ]*//g')"
go mod init tmp/pjrtinstall >/dev/null 2>&1
go get "github.com/gomlx/go-xla@$ver"
cat >main.go <<'GO'
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/go-xla/installer"
)

func main() {
	kind, dir, cudaVersion := os.Args[1], filepath.Join(os.Args[2], "go-xla"), os.Args[3]
	var err error
	switch kind {
	case "cpu":
		err = installer.CPUAutoInstall(dir, false, installer.Verbose)
	case "cuda12", "cuda13":
		err = installer.CudaInstall(kind, cudaVersion, dir, false, installer.Verbose)
	default:
		err = fmt.Errorf("unknown plugin kind %q (cpu, cuda13, cuda12)", kind)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "install-pjrt: %+v\n", err)
		os.Exit(1)
	}
}
GO
go mod tidy >/dev/null 2>&1 || true
go run . "$kind" "$libdir" "${CUDA_PJRT_VERSION:-latest}"
echo "install-pjrt: $kind plugin in $libdir/go-xla:"
ls -l "$libdir/go-xla" "$libdir/go-xla/nvidia" 2>/dev/null | head -n 20 || true
