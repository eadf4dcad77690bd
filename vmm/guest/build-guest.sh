#!/usr/bin/env bash
# Builds Hearth's minimal Linux test guest from Debian packages, cached by the hash of its inputs:
#   kernel  $HEARTH_CACHE/guest/kernel-<hash>/   vmlinux, bzImage, config   (lib/kernel.sh)
#   images  $HEARTH_CACHE/guest/images-<hash>/   init, initramfs.cpio.gz, rootfs.ext4 (lib/images.sh)
#   guest   $HEARTH_CACHE/guest/<hash>/          all of the above, hard-linked, plus paths.env
# HEARTH_CACHE defaults to ~/.cache/hearth. Progress goes to stderr; the guest directory to stdout.
#
# Usage: build-guest.sh [--print-paths] [--properties FILE] [--link DIR]
#   --print-paths      print KEY=path lines (HEARTH_GUEST_VMLINUX, ...) instead of the directory
#   --properties FILE  also write those lines to FILE (a Java properties file; for Maven)
#   --link DIR         also put the guest's files in DIR, hard-linked where possible (for manifests)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib/common.sh"

print_paths=0 props="" link=""
while [ $# -gt 0 ]; do
  case "$1" in
    --print-paths) print_paths=1 ;;
    --properties) props=${2:?--properties needs a file}; shift ;;
    --link) link=${2:?--link needs a directory}; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done

t0=$SECONDS
kernel=$("$here/lib/kernel.sh")
images=$("$here/lib/images.sh")
out="$HEARTH_CACHE/guest/$(hash_inputs "$(basename "$kernel")" "$(basename "$images")")"
if [ ! -f "$out/paths.env" ]; then
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  for f in "$kernel"/{vmlinux,bzImage,config} "$images"/{init,initramfs.cpio.gz,rootfs.ext4}; do
    ln "$f" "$out.tmp/" 2>/dev/null || cp "$f" "$out.tmp/"
  done
  {
    echo "HEARTH_GUEST_DIR=$out"
    echo "HEARTH_GUEST_VMLINUX=$out/vmlinux"
    echo "HEARTH_GUEST_BZIMAGE=$out/bzImage"
    echo "HEARTH_GUEST_INITRAMFS=$out/initramfs.cpio.gz"
    echo "HEARTH_GUEST_ROOTFS=$out/rootfs.ext4"
    echo "HEARTH_GUEST_KERNEL_CONFIG=$out/config"
    echo "HEARTH_GUEST_MARKER=HEARTH-GUEST-READY"
  } >"$out.tmp/paths.env"
  rm -rf "$out" && mv "$out.tmp" "$out"
  prune_old "$HEARTH_CACHE/guest/????????????????" 3
fi
touch "$out"
log "guest ready in $((SECONDS - t0)) s: $out"
[ -z "$props" ] || { mkdir -p "$(dirname "$props")"; cp "$out/paths.env" "$props"; }
if [ -n "$link" ]; then
  rm -rf "$link.tmp" && mkdir -p "$link.tmp"
  for f in "$out"/*; do ln "$f" "$link.tmp/" 2>/dev/null || cp "$f" "$link.tmp/"; done
  rm -rf "$link" && mv "$link.tmp" "$link"
fi
if [ $print_paths -eq 1 ]; then cat "$out/paths.env"; else echo "$out"; fi
