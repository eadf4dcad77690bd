#!/usr/bin/env bash
# Builds the L1 job base image: an ext4 filesystem (label hearth-base, made with mkfs.ext4 -d)
# that becomes the lower layer of the job's root inside L1. It holds busybox, the glibc libraries
# that Java and QEMU need, a jlink'ed JDK 25 runtime at /opt/jdk (java on PATH), bash,
# qemu-system-x86_64 with its firmware for comparison runs, and what the node agent runs on a node:
# iproute2's `ip` and nftables' `nft` (in place of busybox's `ip`) for its real guest network
# (bridge, taps, netns, nftables rules), and coreutils' `cp` (in place of busybox's) for the VMs'
# private disk copies (`cp --reflink=auto --sparse=always`). The jlink output is cached on its own
# ($HEARTH_CACHE/nested/jdk-<hash>/), since it is the slow part and changes least.
# Prints the output directory. Cached under $HEARTH_CACHE/nested/base-<hash>/.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../../lib/common.sh"
HEARTH_LOG_TAG=nested
JDK=${HEARTH_L1_JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}
# All java.* modules plus what test tooling commonly needs (Unsafe, attach, JFR, management), and
# jdk.httpserver, which the node agent serves its console, metrics and health with.
JDK_MODULES=java.se,jdk.unsupported,jdk.management,jdk.zipfs,jdk.attach,jdk.jfr,jdk.crypto.ec,jdk.localedata,jdk.httpserver

ensure_packages busybox-static qemu-system-x86 e2fsprogs bash iproute2 nftables
[ -x "$JDK/bin/jlink" ] || die "no JDK at $JDK (set HEARTH_L1_JDK to a JDK 25 home)"
grep -q '^JAVA_VERSION="25' "$JDK/release" || die "$JDK is not a JDK 25 ($(grep JAVA_VERSION= "$JDK/release"))"
jdk_key=$(hash_inputs "$JDK/release" "$JDK_MODULES" "jlink --strip-debug --no-man-pages --no-header-files --generate-cds-archive")
jdk_out="$HEARTH_CACHE/nested/jdk-$jdk_key"
key=$(hash_inputs "$here/base-image.sh" "$jdk_key" "bash=$(pkg_version bash)" \
  "busybox-static=$(pkg_version busybox-static)" "qemu-system-x86=$(pkg_version qemu-system-x86)" \
  "libc6=$(pkg_version libc6)" "e2fsprogs=$(pkg_version e2fsprogs)" \
  "iproute2=$(pkg_version iproute2)" "nftables=$(pkg_version nftables)" \
  "libnftables1=$(pkg_version libnftables1)" "coreutils=$(pkg_version coreutils)")
out="$HEARTH_CACHE/nested/base-$key"

# Copies a shared library as ldd names it into the merged-/usr tree of the image.
copy_lib() {
  local lib=$1 root=$2 dest
  case "$lib" in /usr/*) dest="$root$lib" ;; *) dest="$root/usr$lib" ;; esac
  [ -e "$dest" ] && return 0
  mkdir -p "$(dirname "$dest")"
  cp -L "$lib" "$dest"
}

build_jdk() {
  if [ -f "$jdk_out/done" ]; then touch "$jdk_out"; return 0; fi
  log "jlink: JDK runtime from $JDK (modules $JDK_MODULES)"
  rm -rf "$jdk_out"
  nice -n 10 "$JDK/bin/jlink" --add-modules "$JDK_MODULES" --strip-debug --no-man-pages \
    --no-header-files --generate-cds-archive --output "$jdk_out/jdk" >&2
  touch "$jdk_out/done"
  prune_old "$HEARTH_CACHE/nested/jdk-*" 2
}

build() {
  if [ -f "$out/done" ]; then touch "$out"; return 0; fi
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  local root="$out.tmp/root" f lib
  mkdir -p "$root"/usr/{bin,sbin,lib,lib64,share} "$root"/{etc,opt,dev,proc,sys,tmp,run,root,var/tmp}
  for d in bin sbin lib lib64; do ln -s "usr/$d" "$root/$d"; done
  # `ip netns add` keeps namespaces under /run/netns; the agent opens them as /var/run/netns/<name>.
  ln -s ../run "$root/var/run"
  chmod 1777 "$root/tmp" "$root/var/tmp"

  with_lock "$jdk_out.lock" build_jdk
  cp -a "$jdk_out/jdk" "$root/opt/jdk"
  ln -s /opt/jdk/bin/java "$root/usr/bin/java"

  log "busybox, qemu-system-x86_64 $(pkg_version qemu-system-x86) and their libraries"
  cp /bin/busybox "$root/usr/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ -e "$root/usr/bin/$applet" ] || ln -s busybox "$root/usr/bin/$applet"
  done
  cp /usr/bin/qemu-system-x86_64 "$root/usr/bin/"
  # iproute2 and nftables for the agent's network (busybox's `ip` has no netns and no bridges'
  # details, so the real one replaces its link); iproute2 reads its tables from /etc/iproute2.
  # GNU cp for the agent's disk copies (busybox's has no --reflink or --sparse).
  log "ip $(pkg_version iproute2), nft $(pkg_version nftables), cp $(pkg_version coreutils)"
  rm -f "$root/usr/bin/ip" "$root/usr/bin/nft"
  cp -L "$(command -v ip)" "$root/usr/bin/ip"
  cp -L "$(command -v nft)" "$root/usr/bin/nft"
  cp -a /etc/iproute2 "$root/etc/"
  rm -f "$root/usr/bin/cp" && cp -L /bin/cp "$root/usr/bin/cp"
  rm -f "$root/usr/bin/bash" && cp /bin/bash "$root/usr/bin/bash"
  cp -a /usr/share/qemu /usr/share/seabios "$root/usr/share/" 2>/dev/null || cp -a /usr/share/qemu "$root/usr/share/"
  find "$root/usr/share" -xtype l -delete  # links into firmware packages that are not installed
  # Every library any ELF file in the image needs, and the dynamic loader.
  while IFS= read -r f; do
    ldd "$f" 2>/dev/null | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }'  || true  # static ELF files have none
  done < <(find "$root/usr/bin" "$root/opt/jdk" -type f \( -perm -u+x -o -name '*.so*' \) -exec sh -c \
    'head -c4 "$1" | grep -q ELF' _ {} \; -print) | sort -u | while IFS= read -r lib; do copy_lib "$lib" "$root"; done
  [ -e "$root/usr/lib64/ld-linux-x86-64.so.2" ] || ln -s ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/usr/lib64/"

  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
  printf 'passwd: files\ngroup: files\nhosts: files\n' >"$root/etc/nsswitch.conf"
  echo "hearth-l1" >"$root/etc/hostname"

  local mb
  mb=$(( $(du -sm "$root" | cut -f1) * 115 / 100 + 64 ))
  log "mkfs.ext4 -d: ${mb} MiB base image"
  E2FSPROGS_FAKE_TIME=1 mkfs.ext4 -q -F -L hearth-base -E root_owner=0:0 -d "$root" "$out.tmp/base.ext4" "${mb}M" >/dev/null
  rm -rf "$root"
  rm -rf "$out" && mv "$out.tmp" "$out" && touch "$out/done"
  log "base image built: $out"
  prune_old "$HEARTH_CACHE/nested/base-*" 2
}

with_lock "$out.lock" build
echo "$out"
