#!/usr/bin/env bash
# Builds the --add image of run-in-l1.sh: an ext4 filesystem (label hearth-add) holding each
# given absolute PATH at that same path, overlaid on the base image inside L1.
# Prints the image file. Cached by content under $HEARTH_CACHE/nested/add/<hash>.ext4 (the
# newest 8 are kept), so rerunning with unchanged jars costs only the hashing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../../lib/common.sh"
HEARTH_LOG_TAG=nested
[ $# -gt 0 ] || die "usage: add-image.sh PATH..."

parts=("$here/add-image.sh")
for p in "$@"; do
  case "$p" in /*) ;; *) die "add-image.sh needs absolute paths, got $p" ;; esac
  [ -e "$p" ] || die "no such file or directory: $p"
  if [ -d "$p" ]; then parts+=("dir $p $(hash_tree "$p")"); else parts+=("file $p $(sha256sum <"$p" | cut -c1-16)"); fi
done
key=$(hash_inputs "${parts[@]}")
dir="$HEARTH_CACHE/nested/add"
img="$dir/$key.ext4"

build() {
  if [ -f "$img" ]; then touch "$img"; return 0; fi
  local stage="$img.stage" p kb
  rm -rf "$stage" && mkdir -p "$stage"
  for p in "$@"; do
    mkdir -p "$stage$(dirname "$p")"
    cp -al "$p" "$stage$p" 2>/dev/null || cp -a "$p" "$stage$p"
  done
  kb=$(( $(du -sk "$stage" | cut -f1) * 12 / 10 + 16384 ))
  E2FSPROGS_FAKE_TIME=1 mkfs.ext4 -q -F -L hearth-add -E root_owner=0:0 -d "$stage" "$img.tmp" "${kb}K" >&2
  rm -rf "$stage"
  mv "$img.tmp" "$img"
  ls -t "$dir"/*.ext4 2>/dev/null | tail -n +9 | xargs -r rm -f
}

with_lock "$dir/.lock" build "$@"
echo "$img"
