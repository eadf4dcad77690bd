#!/usr/bin/env bash
# Boots Hearth's minimal test guest under QEMU `-M microvm -accel kvm` and waits for its marker.
# Meant to run inside L1 (run-in-l1.sh --with-guest), where /dev/kvm runs Linux; it is also the
# QEMU side of Hearth-versus-QEMU comparisons. Reads the guest's paths from
# $HEARTH_GUEST_PROPERTIES (build-guest.sh's paths.env).
#
# Usage: l2-boot-qemu.sh [--kernel vmlinux|bzImage] [--cpus N] [--rootfs initramfs|disk]
#                        [--timeout S] [--verbose]
#   --rootfs initramfs  boot the initramfs; the init also mounts the ext4 disk on virtio-blk
#   --rootfs disk       boot straight from the ext4 disk (root=/dev/vda), no initramfs
# Prints one summary line:
#   L2-BOOT qemu kernel=<k> cpus=<n> rootfs=<r> result=ok|fail marker_s=<s> total_s=<s> [reason=...]
# and exits 0 when the guest printed its ready marker, all its checks passed and it reset itself.
set -uo pipefail
kernel=vmlinux cpus=1 rootfs=initramfs timeout=60 verbose=0
while [ $# -gt 0 ]; do
  case "$1" in
    --kernel) kernel=$2; shift ;;
    --cpus) cpus=$2; shift ;;
    --rootfs) rootfs=$2; shift ;;
    --timeout) timeout=$2; shift ;;
    --verbose) verbose=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "l2-boot-qemu: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
props=${HEARTH_GUEST_PROPERTIES:?set HEARTH_GUEST_PROPERTIES to build-guest.sh paths.env}
# shellcheck disable=SC1090
. "$props"
case "$kernel" in
  vmlinux) kfile=$HEARTH_GUEST_VMLINUX ;;
  bzImage) kfile=$HEARTH_GUEST_BZIMAGE ;;
  *) echo "l2-boot-qemu: --kernel is vmlinux or bzImage" >&2; exit 2 ;;
esac
[ -c /dev/kvm ] || { echo "l2-boot-qemu: no /dev/kvm" >&2; exit 2; }

# acpi=off: the kernel has no ACPI, QEMU then announces virtio-mmio devices on the command line
# and describes the vCPUs in an MP table. An i8042 so that reboot=k resets at once (without one
# the kernel polls the absent controller, each read a VM exit, for minutes). A quiet console:
# every byte is a VM exit.
append="console=ttyS0 reboot=k panic=-1 quiet hearth.cpus=$cpus"
qemu=(qemu-system-x86_64 -M microvm,x-option-roms=off,acpi=off,ioapic2=off,isa-serial=on,rtc=off
  -accel kvm -cpu host -smp "$cpus" -m 256M -nodefaults -no-user-config -display none
  -monitor none -serial stdio -no-reboot -device i8042 -kernel "$kfile"
  -drive "id=root,file=$HEARTH_GUEST_ROOTFS,format=raw,if=none,readonly=on" -device virtio-blk-device,drive=root)
case "$rootfs" in
  initramfs) qemu+=(-initrd "$HEARTH_GUEST_INITRAMFS"); append+=" hearth.check=cpus,blk,rootfs" ;;
  disk) append+=" root=/dev/vda ro rootfstype=ext4 hearth.check=cpus,blk,rootfs" ;;
  *) echo "l2-boot-qemu: --rootfs is initramfs or disk" >&2; exit 2 ;;
esac
qemu+=(-append "$append")

start=$EPOCHREALTIME
secs() { local us=$(( ${EPOCHREALTIME/./} - ${start/./} )); printf '%d.%03d' $((us / 1000000)) $((us / 1000 % 1000)); }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# One boot. QEMU's output goes to $out; sets marker, done_line, failed_checks and status.
boot() {
  : >"$out"
  marker="" done_line="" failed_checks=""
  coproc QEMU { timeout -k 2 "$timeout" "${qemu[@]}" </dev/null 2>&1; }
  local qemu_pid=$QEMU_PID  # bash unsets QEMU_PID when the coprocess ends
  while IFS= read -r line <&"${QEMU[0]}"; do
    line=${line%$'\r'}
    echo "$line" >>"$out"
    [ $verbose -eq 0 ] || echo "l2| $line" >&2
    case "$line" in
      HEARTH-GUEST-READY*) marker=$(secs) ;;
      "HEARTH-CHECK "*" FAIL "*) failed_checks+="${line#HEARTH-CHECK } ; " ;;
      HEARTH-GUEST-DONE*) done_line=$line ;;
    esac
  done
  wait "$qemu_pid"; status=$?
}
boot
if [ $status -eq 0 ] && [ ! -s "$out" ]; then
  # Seen once with bzImage and 2 vCPUs on a quiet host: QEMU exited 0 within 3 s having printed
  # nothing at all, so the guest reset (-no-reboot) before its first console byte. That is L1's
  # nested KVM under QEMU's software AMD-V, not the guest; one more boot tells a flake from a fault.
  echo "l2-boot-qemu: the guest reset before printing anything; booting it once more" >&2
  boot
fi
total=$(secs)
grep -E '^HEARTH-' "$out" | sed 's/^/l2: /' >&2
reason=""
if [ -z "$marker" ]; then reason="no HEARTH-GUEST-READY marker (qemu status $status)"
elif [ -n "$failed_checks" ]; then reason="checks failed: $failed_checks"
elif [ -z "$done_line" ]; then reason="no HEARTH-GUEST-DONE line (qemu status $status)"
elif [ $status -ne 0 ]; then reason="qemu exited with status $status (124: timeout after ${timeout}s)"
fi
if [ -n "$reason" ]; then
  tail -n 30 "$out" | sed 's/^/l2| /' >&2
  echo "L2-BOOT qemu kernel=$kernel cpus=$cpus rootfs=$rootfs result=fail marker_s=${marker:-none} total_s=$total reason=$reason"
  exit 1
fi
echo "L2-BOOT qemu kernel=$kernel cpus=$cpus rootfs=$rootfs result=ok marker_s=$marker total_s=$total"
