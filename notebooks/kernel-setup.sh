#!/bin/sh
# notebooks/kernel-setup.sh — the first cell of every notebook runs it in GoNB's module folder
# (`!*sh ${GONB_DIR}/kernel-setup.sh`): github.com/aelab/aelab resolves to this working tree, and
# every module aelab requires directly (and gonum, which cells use for PCA) is pinned at the
# version aelab's go.mod resolves, which also records their checksums in the kernel's go.sum
# (GoNB cannot look versions up here: the proxy refuses version lists). `go get` runs quietly
# and is repeated with its messages only if it fails; the last line proves the replace. aelab's
# own replaces (its patched ONNX Runtime backend in third_party/) apply here too, by absolute
# folder, so notebooks train as fast as the aelab binary.
set -e
repo="$(cd "$(dirname "$0")/.." && pwd)"
go mod edit -require=github.com/aelab/aelab@v0.0.0 -replace=github.com/aelab/aelab="$repo"
for r in $(cd "$repo" && go list -m -f '{{if and .Replace (not .Replace.Version)}}{{.Path}}={{.Replace.Dir}}{{end}}' all); do
	go mod edit -replace="$r"
done
pins="$(cd "$repo" && go list -m -f '{{if and (not .Main) (not .Indirect)}}{{.Path}}@{{.Version}}{{end}}' all &&
	go list -m -f '{{.Path}}@{{.Version}}' gonum.org/v1/gonum)"
go get $pins 2>/dev/null || go get $pins
go list -m github.com/aelab/aelab
