#!/usr/bin/env bash
# Builds the guest's user space: the static test init, a busybox initramfs (init at /init) and an
# ext4 rootfs (init at /sbin/init, stamp at /etc/hearth-rootfs) made with mkfs.ext4 -d.
# Prints the output directory on stdout. Cached under $HEARTH_CACHE/guest/images-<hash>/.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/common.sh"
init_src=$(cd "$here/../init" && pwd)/hearth-init.c
container_src=$(cd "$here/../init" && pwd)/container.c
ROOTFS_MB=16

ensure_packages busybox-static e2fsprogs cpio gcc libc6-dev gzip
key=$(hash_inputs "$init_src" "$container_src" "${container_src%.c}.h" "$here/images.sh" "busybox-static=$(pkg_version busybox-static)" \
  "gcc=$(gcc -dumpfullversion)" "libc6-dev=$(pkg_version libc6-dev)" "e2fsprogs=$(pkg_version e2fsprogs)")
out="$HEARTH_CACHE/guest/images-$key"

# A root tree: busybox and its applet links, the init, and the mount points it uses.
populate() {
  local root=$1 init_path=$2 applet
  mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,mnt,etc,root}
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  install -m 0755 "$out.tmp/init" "$root$init_path"
}

build() {
  if [ -f "$out/done" ]; then touch "$out"; return 0; fi
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  log "compiling the static test init"
  gcc -static -Os -Wall -Wextra -Werror -o "$out.tmp/init" "$init_src" "$container_src"
  strip "$out.tmp/init"

  log "packing the initramfs (busybox-static $(pkg_version busybox-static))"
  local ird="$out.tmp/initramfs"
  populate "$ird" /init
  # Reproducible archive: sorted names, fixed times, root owner.
  find "$ird" -exec touch -h -d @0 {} +
  (cd "$ird" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) \
    | gzip -n -9 >"$out.tmp/initramfs.cpio.gz"

  log "making the ext4 rootfs (${ROOTFS_MB} MiB)"
  local rfs="$out.tmp/rootfs"
  populate "$rfs" /sbin/init
  echo "HEARTH-ROOTFS-OK ext4" >"$rfs/etc/hearth-rootfs"
  E2FSPROGS_FAKE_TIME=1 mkfs.ext4 -q -F -L hearth-root -U 6d65b5a2-8a3b-4c1e-9b1e-68656172746a \
    -E root_owner=0:0 -d "$rfs" "$out.tmp/rootfs.ext4" "${ROOTFS_MB}M" >/dev/null
  rm -rf "$ird" "$rfs"
  rm -rf "$out" && mv "$out.tmp" "$out"
  touch "$out/done"
  log "images built: $out"
  prune_old "$HEARTH_CACHE/guest/images-*" 3
}

with_lock "$out.lock" build
echo "$out"
