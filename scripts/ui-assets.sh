#!/usr/bin/env bash
# scripts/ui-assets.sh — fetch the web UI's front-end assets again from npm (`make ui-assets`).
#
#   bash scripts/ui-assets.sh           npm pack each package of web/assets.txt at its pinned version,
#                                       copy the listed files into web/static/vendor/, and check
#                                       each against the manifest's sha256 (a mismatch fails)
#   bash scripts/ui-assets.sh --update  the same, but write the new digests into web/assets.txt
#                                       (after changing a version there)
#
# npm pack checks each tarball against the registry's integrity digest; no install scripts run.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MANIFEST="$REPO_ROOT/web/assets.txt"
VENDOR="$REPO_ROOT/web/static/vendor"
UPDATE=0
case "${1:-}" in
	--update) UPDATE=1 ;;
	"") ;;
	*) echo "ui-assets: unknown argument $1 (use --update)" >&2; exit 2 ;;
esac
command -v npm >/dev/null 2>&1 || { echo "ui-assets: npm not found (make setup installs it)" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
new_manifest="$tmp/assets.txt"
failed=0
while IFS= read -r line; do
	if [[ -z "$line" || "$line" == \#* ]]; then
		printf '%s\n' "$line" >>"$new_manifest"
		continue
	fi
	read -r pkg version licence src dst sum <<<"$line"
	dir="$tmp/$pkg-$version"
	if [ ! -d "$dir" ]; then
		mkdir -p "$dir"
		(cd "$dir" && npm pack "$pkg@$version" --silent --cache "$tmp/npm-cache" >/dev/null)
		tar -xzf "$dir"/*.tgz -C "$dir"
	fi
	[ -f "$dir/package/$src" ] || { echo "ui-assets: $pkg@$version has no $src" >&2; exit 1; }
	got="$(sha256sum "$dir/package/$src" | cut -d' ' -f1)"
	if [ "$got" != "$sum" ] && [ "$UPDATE" = 0 ]; then
		echo "ui-assets: $pkg@$version $src has sha256 $got, the manifest says $sum" >&2
		failed=1
		continue
	fi
	mkdir -p "$(dirname "$VENDOR/$dst")"
	cp "$dir/package/$src" "$VENDOR/$dst"
	printf '%-10s %-8s %-8s %-23s %-24s %s\n' "$pkg" "$version" "$licence" "$src" "$dst" "$got" >>"$new_manifest"
	echo "ui-assets: $pkg@$version ($licence) $src -> web/static/vendor/$dst"
done <"$MANIFEST"
[ "$failed" = 0 ] || exit 1
if [ "$UPDATE" = 1 ]; then cp "$new_manifest" "$MANIFEST"; echo "ui-assets: digests written to web/assets.txt"; fi
echo "ui-assets: ok"
