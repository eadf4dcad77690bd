#!/usr/bin/env bash
# Runs COMMAND inside L1: a Debian cloud kernel in QEMU TCG with an emulated AMD-V CPU, where
# kvm_amd (nested=1, npt=0: see lib/l1.sh) gives a working /dev/kvm that runs real Linux guests.
# COMMAND runs with /bin/sh -c in a root made of the base image (JDK 25 as `java`,
# qemu-system-x86_64, busybox) with every --add PATH overlaid at the same absolute path.
#
# Usage: run-in-l1.sh [options] -- COMMAND...
#   --timeout S        limit in seconds for the run, from QEMU's start (default 600)
#   --boot-timeout S   limit for L1 to reach a ready /dev/kvm, from QEMU's start (default 120)
#   --add PATH         make PATH (file or directory) visible inside L1 at the same path; repeatable
#   --with-guest       build the minimal test guest (../build-guest.sh) and add its directory;
#                      HEARTH_GUEST_PROPERTIES in the job names its paths.env
#   --cwd DIR          working directory of COMMAND (default /; the host's cwd if it was added)
#   --env K=V          environment variable for COMMAND; repeatable
#   --result FILE      write key=value lines: outcome, exit_code, timings (for programs)
#   --console FILE     keep L1's raw serial console there
#   --cpus N, --mem M  L1 vCPUs (default 2) and memory (default 3G)
#   --net              give L1 a NIC on QEMU's user network: L1 is 10.0.2.15 and reaches the
#                      host's loopback at 10.0.2.2 (e.g. a test-cluster/control-plane.sh apiserver,
#                      whose certificate names 10.0.2.2: --add a kubeconfig whose server is
#                      https://10.0.2.2:PORT and --env KUBECONFIG=that file)
#   --verbose          also stream L1's kernel console to stderr
#   --no-timestamps    stream the job's lines without the [+seconds] prefix
#
# A single COMMAND word is run as a shell command line (`-- 'java -version && ls /'`); several
# words are run as that argument vector.
#
# COMMAND's stdout and stderr stream to this script's stdout and stderr, each line prefixed with
# the seconds since start. The exit status is COMMAND's own (0-255), or on a harness failure:
#   120  L1 did not come up (QEMU failed, or no init within --boot-timeout)
#   121  L1 came up but /dev/kvm did not appear
#   122  L1 died while the job ran (no exit report)
#   124  --timeout ran out
#   125  the harness itself failed (bad arguments, a build failed, a disk missing in L1)
# A harness failure also prints one "run-in-l1: FAILED <outcome>: <reason>" line on stderr, and
# --result names the outcome, since a job may use those codes itself.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../lib/common.sh"
HEARTH_LOG_TAG=run-in-l1
start=$EPOCHREALTIME

timeout=600 boot_timeout=120 cwd="" cpus=2 mem=3G verbose=0 stamps=1 with_guest=0 net=0 result="" console=""
adds=() envs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --timeout) timeout=$2; shift ;;
    --boot-timeout) boot_timeout=$2; shift ;;
    --add) adds+=("$(realpath -e "$2" 2>/dev/null || echo "$2")"); shift ;;
    --with-guest) with_guest=1 ;;
    --cwd) cwd=$2; shift ;;
    --env) envs+=("$2"); shift ;;
    --result) result=$2; shift ;;
    --console) console=$2; shift ;;
    --cpus) cpus=$2; shift ;;
    --mem) mem=$2; shift ;;
    --verbose) verbose=1 ;;
    --net) net=1 ;;
    --no-timestamps) stamps=0 ;;
    -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
    --) shift; break ;;
    *) echo "run-in-l1: unknown option $1 (see --help)" >&2; exit 125 ;;
  esac
  shift
done

# Seconds since start with millisecond precision, without forking (EPOCHREALTIME is s.micros).
elapsed() { local us=$(( ${EPOCHREALTIME/./} - ${start/./} )); printf '%d.%03d' $((us / 1000000)) $((us / 1000 % 1000)); }
declare -A timing=()
outcome="" exit_code=""
write_result() {
  [ -n "$result" ] || return 0
  { echo "outcome=$outcome"; echo "exit_code=$exit_code"
    for k in "${!timing[@]}"; do echo "$k=${timing[$k]}"; done; } >"$result"
}
fail() { # outcome exit-code reason
  outcome=$1 exit_code=$2
  echo "run-in-l1: FAILED $1: $3" >&2
  write_result
  exit "$2"
}
[ $# -gt 0 ] || fail setup-error 125 "no COMMAND given (usage: run-in-l1.sh [options] -- COMMAND...)"
for p in "${adds[@]}"; do [ -e "$p" ] || fail setup-error 125 "--add $p: no such file or directory"; done
[[ "$timeout" =~ ^[0-9]+$ && "$boot_timeout" =~ ^[0-9]+$ ]] || fail setup-error 125 "--timeout and --boot-timeout take whole seconds"
command -v qemu-system-x86_64 >/dev/null || ensure_packages qemu-system-x86

# Boot files, base image and (optionally) the test guest: all cached by input hash.
l1=$("$here/lib/l1.sh") || fail setup-error 125 "building the L1 kernel and initramfs failed"
base=$("$here/lib/base-image.sh") || fail setup-error 125 "building the base image failed"
if [ $with_guest -eq 1 ]; then
  guest=$("$here/../build-guest.sh") || fail setup-error 125 "building the test guest failed"
  adds+=("$guest")
  envs+=("HEARTH_GUEST_PROPERTIES=$guest/paths.env")
fi
add_img=""
if [ ${#adds[@]} -gt 0 ]; then
  add_img=$("$here/lib/add-image.sh" "${adds[@]}") || fail setup-error 125 "building the --add image failed"
fi
timing[prepare_s]=$(elapsed)
[ "${timing[prepare_s]%.*}" -lt 5 ] || log "prepared L1 files in ${timing[prepare_s]}s"

work=$(mktemp -d "${TMPDIR:-/tmp}/hearth-l1.XXXXXX")
qpid=""
cleanup() { [ -z "$qpid" ] || kill "$qpid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
trap 'fail setup-error 125 "interrupted"' INT TERM

# The job travels as a second cpio archive appended to the initramfs (the kernel unpacks both).
if [ -z "$cwd" ]; then
  cwd=/
  for p in "${adds[@]}"; do case "$PWD/" in "$p"/*) cwd=$PWD ;; esac; done
fi
mkdir -p "$work/job/job"
{
  echo "export PATH=/opt/jdk/bin:/usr/bin:/usr/sbin JAVA_HOME=/opt/jdk HOME=/root TMPDIR=/tmp"
  for e in "${envs[@]}"; do printf 'export %q\n' "$e"; done
  printf 'cd %q || exit 125\n' "$cwd"
  # One word is a shell command line; several words are an argv, quoted here.
  if [ $# -eq 1 ]; then printf '%s\n' "$1"; else printf '%q ' "$@"; echo; fi
} >"$work/job/job/cmd"
# Compressed too: an uncompressed archive after a gzip one would have to start 4-byte aligned.
(cd "$work/job" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -n >"$work/job.cpio.gz"
cat "$l1/initramfs.cpio.gz" "$work/job.cpio.gz" >"$work/initrd"

khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
[ -n "$khz" ] && [ "$khz" -gt 0 ] || khz=$(( $(cat /sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq 2>/dev/null || echo 2000000) ))
qemu=(qemu-system-x86_64 -accel tcg,thread=multi -cpu EPYC -smp "$cpus" -m "$mem"
  -M microvm,x-option-roms=off,pit=on,pic=off,isa-serial=on,rtc=on,acpi=on
  -nodefaults -no-user-config -display none -monitor none -serial stdio -no-reboot
  -kernel "$l1/vmlinuz" -initrd "$work/initrd"
  -append "console=ttyS0 panic=0 quiet tsc_early_khz=$khz"
  -device isa-debug-exit,iobase=0xf4,iosize=0x04
  -drive "id=base,file=$base/base.ext4,format=raw,if=none,readonly=on" -device virtio-blk-device,drive=base)
[ -z "$add_img" ] || qemu+=(-drive "id=add,file=$add_img,format=raw,if=none,readonly=on" -device virtio-blk-device,drive=add)
# ipv6 off: L1 configures only IPv4. restrict=off is the default: the host must be reachable.
[ $net -eq 0 ] || qemu+=(-netdev user,id=net0,ipv6=off -device virtio-net-device,netdev=net0)

# Deadlines and timestamps count from QEMU's start: cached builds above are not the job's time.
start=$EPOCHREALTIME
console=${console:-$work/console.log}
: >"$console"
mkfifo "$work/serial"
"${qemu[@]}" </dev/null >"$work/serial" 2>"$work/qemu.err" &
qpid=$!
exec {serial}<"$work/serial"

stamp() { if [ $stamps -eq 1 ]; then printf '[+%8ss] %s\n' "$(elapsed)" "$1"; else printf '%s\n' "$1"; fi; }
deadline_boot=$(( ${start%.*} + boot_timeout ))
deadline_all=$(( ${start%.*} + timeout ))
phase=boot   # boot -> kvm -> job -> done
partial="" eof=0
while [ $eof -eq 0 ]; do
  now=${EPOCHREALTIME%.*}
  if [ "$phase" != done ]; then
    [ "$now" -lt "$deadline_all" ] || { tail -n 20 "$console" >&2; fail timeout 124 "no result after --timeout ${timeout}s (phase: $phase)"; }
    if [ "$phase" = boot ] || [ "$phase" = kvm ]; then
      [ "$now" -lt "$deadline_boot" ] || { tail -n 20 "$console" >&2
        fail l1-no-boot 120 "L1 did not reach a ready /dev/kvm within --boot-timeout ${boot_timeout}s (phase: $phase)"; }
    fi
  fi
  if IFS= read -r -t 1 line <&"$serial"; then
    line=$partial$line partial=""
  else
    # A timeout (status > 128) keeps the partial line read so far; EOF ends the loop.
    rc=$?; partial+=$line
    [ $rc -gt 128 ] && continue
    [ -n "$partial" ] || break
    line=$partial partial="" eof=1
  fi
  line=${line%$'\r'}
  printf '%s\n' "$line" >>"$console"
  case "$line" in
    O\|*) stamp "${line#O|}" ;;
    E\|*) stamp "${line#E|}" >&2 ;;
    H\|*)
      set -- ${line#H|}
      case "$1" in
        l1-up) timing[l1_init_s]=$(elapsed); phase=kvm ;;
        kvm-ready) timing[l1_kvm_s]=$(elapsed); timing[l1_kvm_uptime_s]=$2
          [ $stamps -eq 0 ] || stamp "run-in-l1: L1 up, /dev/kvm ready ($3) after $(elapsed)s" >&2 ;;
        no-kvm) shift; outcome_reason="$*" ;;
        job-start) timing[job_start_s]=$(elapsed); phase=job ;;
        exit) exit_code=$2; timing[job_end_s]=$(elapsed); phase=done ;;
        *) stamp "run-in-l1: L1 reports: ${line#H|}" >&2 ;;
      esac ;;
    *"Kernel panic - not syncing"*)
      # panic=0 keeps a panicked L1 standing (a reset would reboot it): stop it here.
      stamp "l1| $line" >&2; panic=$line; kill "$qpid" 2>/dev/null; phase_at_panic=$phase ;;
    *) [ $verbose -eq 0 ] || stamp "l1| $line" >&2 ;;
  esac
done
wait "$qpid"; qstatus=$?; qpid=""
timing[total_s]=$(elapsed)
[ -s "$work/qemu.err" ] && grep -v -i 'warning: TCG doesn.t support requested feature' "$work/qemu.err" | sed 's/^/qemu: /' >&2

if [ -n "${outcome_reason:-}" ]; then
  grep '^H|dmesg' "$console" | sed 's/^H|dmesg /l1 dmesg: /' >&2
  fail no-kvm 121 "/dev/kvm did not appear in L1: $outcome_reason"
fi
if [ -n "${panic:-}" ] && [ "$phase" != done ]; then
  tail -n 30 "$console" >&2
  if [ "$phase" = job ]; then fail l1-crashed 122 "L1 kernel panicked while the job ran: ${panic#*not syncing: }"; fi
  fail l1-no-boot 120 "L1 kernel panicked during boot: ${panic#*not syncing: }"
fi
case "$phase" in
  boot) tail -n 20 "$console" >&2; fail l1-no-boot 120 "L1 did not come up: QEMU exited with status $qstatus before L1's init ran" ;;
  kvm) tail -n 20 "$console" >&2; fail l1-no-boot 120 "L1 stopped before /dev/kvm was ready (QEMU status $qstatus)" ;;
  job) tail -n 20 "$console" >&2; fail l1-crashed 122 "L1 ended while the job ran, without an exit report (QEMU status $qstatus)" ;;
esac
if [ "$exit_code" = 125 ] && grep -q '^H|setup-failed' "$console"; then
  fail setup-error 125 "$(grep -m1 '^H|setup-failed' "$console" | cut -d' ' -f2-)"
fi
outcome=job-exit
write_result
exit "$exit_code"
