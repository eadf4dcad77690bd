#!/usr/bin/env bash
# Builds the L1 machine's boot files from Debian's cloud kernel (linux-image-cloud-amd64):
# vmlinuz, and an initramfs with busybox-static, lib/l1-init.sh as /init, lib/l1-exit.c, and the
# modules for KVM with nested AMD-V, virtio-mmio block and net (run-in-l1.sh --net), overlayfs, tun and vhost, the bridge, and
# the netfilter modules that the node agent's nftables rules need (FirewallRules).
# Prints the output directory. Cached under $HEARTH_CACHE/nested/l1-<hash>/.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../../lib/common.sh"
HEARTH_LOG_TAG=nested
# Module name, then its parameters. Dependencies are resolved from modules.dep and loaded first.
# L1 has no modprobe for the kernel's request_module, so every module nft would ask for is loaded
# up front: nf_tables (with nfnetlink; its filter chains cover the ip and bridge families, and
# payload/cmp for ether/arp/ip saddr), nft_meta_bridge (a bridge-family rule's meta expression,
# iifname or the protocol test behind `ip saddr`, is looked up as nft-expr-7-meta first and fails
# with ENOENT without it), the ip nat chain type and masquerade for egress NAT (nf_nat,
# nf_conntrack and defrag come as dependencies), nft_nat and nft_ct for rules that name them,
# nft_fib_inet for the inet table's `fib daddr type local` (the node's own addresses), and veth
# for the tests that give a node an uplink to an "outside" namespace (GuestIsolationKvmIT).
# npt=0: L1's KVM shadows L2's page tables instead of handing them to the emulated nested paging,
# under which Linux guests booting two at a time triple-faulted (41 of 79 boots on 2026-12-06
# against 0 of 68 with npt=0, at 1.4x the boot time; docs/architecture.md, "Testing, in layers").
WANTED_MODULES=(
  "kvm_amd nested=1 npt=0"
  "virtio_mmio" "virtio_blk" "overlay"
  "tun" "vhost_net" "vhost_vsock" "bridge" "virtio_net"
  "nf_tables" "nft_meta_bridge" "nft_chain_nat" "nft_masq" "nft_nat" "nft_ct"
  "nft_fib_inet" "veth"
)

ensure_packages busybox-static cpio gcc libc6-dev gzip kmod
# Which kernel package the metapackage means, remembered per state of the apt lists
# (apt-cache takes seconds; an `apt-get update` changes the lists directory and so the answer).
resolve_kernel_package() {
  apt-cache depends linux-image-cloud-amd64 2>/dev/null \
    | sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1
}
resolution="$HEARTH_CACHE/nested/.kernel-package-$(stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0)"
if [ -s "$resolution" ]; then
  read -r kpkg kver <"$resolution"
else
  kpkg=$(resolve_kernel_package)
  if [ -z "$kpkg" ]; then
    apt-get -o DPkg::Lock::Timeout=900 update -qq >&2 || true
    kpkg=$(resolve_kernel_package)
  fi
  [ -n "$kpkg" ] || die "cannot resolve linux-image-cloud-amd64 to a kernel package (apt-get update?)"
  kver=$(apt-cache policy "$kpkg" | sed -n 's/^ *Candidate: //p')
  mkdir -p "$(dirname "$resolution")" && echo "$kpkg $kver" >"$resolution"
fi
key=$(hash_inputs "$here/l1.sh" "$here/l1-init.sh" "$here/l1-exit.c" "$kpkg=$kver" \
  "busybox-static=$(pkg_version busybox-static)" "gcc=$(gcc -dumpfullversion)" "${WANTED_MODULES[@]}")
out="$HEARTH_CACHE/nested/l1-$key"

build() {
  if [ -f "$out/done" ]; then touch "$out"; return 0; fi
  rm -rf "$out.tmp" && mkdir -p "$out.tmp/deb" && cd "$out.tmp"
  log "fetching $kpkg $kver"
  (cd deb && apt-get -o APT::Sandbox::User=root download "$kpkg=$kver" >&2) || die "apt-get download $kpkg failed"
  dpkg-deb -x deb/*.deb pkg
  local release=${kpkg#linux-image-}
  cp "pkg/boot/vmlinuz-$release" vmlinuz
  local moddir="pkg/lib/modules/$release"
  [ -d "$moddir" ] || moddir="pkg/usr/lib/modules/$release"
  # The package ships no modules.dep (depmod runs at install time): generate it here.
  depmod -b "${moddir%/lib/modules/*}" "$release" || die "depmod on $kpkg failed"
  [ -f "$moddir/modules.dep" ] || die "no modules.dep for $kpkg after depmod"

  log "packing the L1 initramfs"
  local root=initramfs order=()
  mkdir -p $root/{bin,sbin,etc,dev,proc,sys,run,job,lib/modules}
  cp /bin/busybox $root/bin/busybox
  for applet in $(/bin/busybox --list); do [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"; done
  gcc -static -Os -Wall -Werror -o $root/bin/l1-exit "$here/l1-exit.c"
  install -m 0755 "$here/l1-init.sh" $root/init
  # Dependency closure, dependencies first, each module once.
  declare -A seen=()
  add_module() {
    local name=$1 params=$2 path deps d
    path=$(grep -E "^(kernel/)?.*/${name//_/[-_]}\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | head -n1 | cut -d: -f1)
    [ -n "$path" ] || die "module $name not found in $kpkg"
    [ -z "${seen[$path]:-}" ] || return 0
    deps=$(grep -E "^$path:" "$moddir/modules.dep" | cut -d: -f2)
    for d in $deps; do add_module "$(basename "${d%%.ko*}")" ""; done
    seen[$path]=1
    case "$path" in
      *.ko) cp "$moddir/$path" "$root/lib/modules/" ;;
      *.ko.xz) xz -dc "$moddir/$path" >"$root/lib/modules/$(basename "${path%.xz}")" ;;
      *.ko.zst) zstd -qdc "$moddir/$path" >"$root/lib/modules/$(basename "${path%.zst}")" ;;
      *) die "unknown module format $path" ;;
    esac
    order+=("$(basename "${path%.ko*}").ko $params")
  }
  local m
  for m in "${WANTED_MODULES[@]}"; do add_module "${m%% *}" "$( [ "$m" = "${m#* }" ] || echo "${m#* }")"; done
  printf '%s\n' "${order[@]}" >$root/etc/l1-modules
  log "modules: $(printf '%s ' "${order[@]%% *}")"
  find $root -exec touch -h -d @0 {} +
  (cd $root && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) | gzip -n -9 >initramfs.cpio.gz
  echo "$kpkg $kver" >kernel-package
  rm -rf deb pkg $root
  cd / && rm -rf "$out" && mv "$out.tmp" "$out" && touch "$out/done"
  log "L1 boot files built: $out"
  prune_old "$HEARTH_CACHE/nested/l1-*" 2
}

with_lock "$out.lock" build
echo "$out"
