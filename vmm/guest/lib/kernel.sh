#!/usr/bin/env bash
# Builds the minimal guest kernel (vmlinux and bzImage) from Debian's linux-source-6.1:
# tinyconfig + vmm/guest/microvm.config (merge_config.sh -m) + olddefconfig, verified.
# Prints the output directory on stdout. Cached under $HEARTH_CACHE/guest/kernel-<hash>/.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/common.sh"
fragment=$(cd "$here/.." && pwd)/microvm.config

ensure_packages linux-source-6.1 bc bison flex libelf-dev libssl-dev gcc make xz-utils
src_tar=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n1)
[ -n "$src_tar" ] || die "linux-source-6.1 is installed but /usr/src/linux-source-6.1.tar.* is missing"

key=$(hash_inputs "$fragment" "$here/kernel.sh" "linux-source-6.1=$(pkg_version linux-source-6.1)" \
  "gcc=$(gcc -dumpfullversion)" "binutils=$(pkg_version binutils)")
out="$HEARTH_CACHE/guest/kernel-$key"

build() {
  if [ -f "$out/done" ]; then return 0; fi
  local src="$HEARTH_CACHE/guest/linux-src-$(pkg_version linux-source-6.1)"
  if [ ! -f "$src/.hearth-extracted" ]; then
    log "extracting $src_tar"
    rm -rf "$src" && mkdir -p "$src"
    tar -xf "$src_tar" -C "$src" --strip-components=1
    touch "$src/.hearth-extracted"
  fi
  local obj="$out/build"
  mkdir -p "$out"
  if [ ! -d "$obj" ]; then
    # Seed from the newest earlier object tree: Kbuild then rebuilds only what the config change touches.
    local prev
    prev=$(ls -dt "$HEARTH_CACHE"/guest/kernel-*/build 2>/dev/null | grep -v "^$obj\$" | head -n1 || true)
    if [ -n "$prev" ] && [ -f "$prev/.config" ]; then log "seeding object tree from $prev"; cp -a "$prev" "$obj"
    else mkdir -p "$obj"; fi
  fi
  local buildlog="$out/build.log" jobs
  jobs=$(nproc)
  : >"$buildlog"
  run_make() { nice -n 10 make -C "$src" O="$obj" -j"$jobs" "$@" >>"$buildlog" 2>&1 || { tail -n 40 "$buildlog" >&2; die "make $* failed (log: $buildlog)"; }; }
  log "configuring: tinyconfig + $(basename "$fragment")"
  run_make tinyconfig
  (cd "$obj" && "$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$fragment") >>"$buildlog" 2>&1 \
    || die "merge_config.sh failed (log: $buildlog)"
  run_make olddefconfig
  verify_config "$obj/.config"
  log "building vmlinux and bzImage with -j$jobs (log: $buildlog; about 20 min on 2 cores when cold)"
  local t0=$SECONDS
  run_make vmlinux bzImage
  cp "$obj/vmlinux" "$out/vmlinux"
  cp "$obj/arch/x86/boot/bzImage" "$out/bzImage"
  cp "$obj/.config" "$out/config"
  echo "$((SECONDS - t0))" >"$out/build-seconds"
  touch "$out/done"
  log "kernel built in $((SECONDS - t0)) s: $out"
}

# Every option of the fragment must have survived olddefconfig with the value asked for.
verify_config() {
  local cfg=$1 line name bad=0
  while IFS= read -r line; do
    case "$line" in
      CONFIG_*=*)
        grep -qxF "$line" "$cfg" || { log "config lost: wanted '$line', got '$(grep -E "^(# )?${line%%=*}[= ]" "$cfg" || echo unset)'"; bad=1; } ;;
      "# CONFIG_"*" is not set")
        name=${line#\# }; name=${name%% *}
        if grep -q "^$name=" "$cfg"; then log "config lost: wanted $name unset, got '$(grep "^$name=" "$cfg")'"; bad=1; fi ;;
    esac
  done <"$fragment"
  [ $bad -eq 0 ] || die "kernel config does not match $(basename "$fragment"); fix the fragment's dependencies"
  log "config verified: all $(grep -cE '^(CONFIG_|# CONFIG_.* is not set)' "$fragment") fragment options present"
}

with_lock "$out.lock" build
echo "$out"
