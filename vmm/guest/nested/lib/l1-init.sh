#!/bin/sh
# PID 1 of the L1 machine (busybox). It loads KVM (nested AMD-V) and virtio modules, mounts the
# job disks as an overlay root, runs /job/cmd there and reports through the serial console:
#   H|<event> ...   harness events (l1-up, kvm-ready, no-kvm, job-start, exit)
#   O|<line>        a line of the job's stdout
#   E|<line>        a line of the job's stderr
# Then it ends the machine through isa-debug-exit (lib/l1-exit.c).
PATH=/bin:/sbin
export PATH
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /run && mount -t tmpfs -o size=64m tmpfs /run

h() { echo "H|$*"; }
up() { cut -d' ' -f1 /proc/uptime; }
finish() {
  h "exit $1 $(up)"
  sync
  /bin/l1-exit "$1"
  poweroff -f
}
h "l1-up $(up)"

# Modules in dependency order (written by lib/l1.sh); a line is: file [params].
while read -r mod params; do
  [ -n "$mod" ] || continue
  # shellcheck disable=SC2086
  insmod "/lib/modules/$mod" $params 2>/run/insmod.err || h "insmod-failed $mod $(cat /run/insmod.err)"
done </etc/l1-modules

i=0
while [ ! -c /dev/kvm ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -c /dev/kvm ]; then
  h "no-kvm /dev/kvm missing after loading kvm_amd; cpu flags: $(grep -m1 -o -w -E 'svm|npt' /proc/cpuinfo | tr '\n' ' ')"
  dmesg | grep -i -E 'kvm|svm' | sed 's/^/H|dmesg /'
  finish 121
fi
h "kvm-ready $(up) nested=$(cat /sys/module/kvm_amd/parameters/nested 2>/dev/null),npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null)"

# Loopback: jobs run servers on localhost (the mock Kubernetes API server, for one).
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
# A NIC means run-in-l1.sh --net: QEMU's user network, where 10.0.2.2 is the host's loopback (a
# test control plane's apiserver listens there). No default route: L1 reaches that subnet only.
if [ -e /sys/class/net/eth0 ]; then
  { ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0; } 2>/run/net.err \
    || h "net-failed eth0: $(cat /run/net.err)"
fi

# Job disks are found by label: hearth-base (JDK, qemu, guest images) and hearth-add (--add paths).
mkdir -p /base /add /rw /newroot
i=0
while [ -z "$(findfs LABEL=hearth-base 2>/dev/null)" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
base=$(findfs LABEL=hearth-base 2>/dev/null) || { h "setup-failed no disk labelled hearth-base"; finish 125; }
mount -t ext4 -o ro "$base" /base || { h "setup-failed mount $base"; finish 125; }
lower=/base
if add=$(findfs LABEL=hearth-add 2>/dev/null); then
  mount -t ext4 -o ro "$add" /add || { h "setup-failed mount $add"; finish 125; }
  lower=/add:/base
fi
mount -t tmpfs -o size=1g tmpfs /rw && mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o "lowerdir=$lower,upperdir=/rw/upper,workdir=/rw/work" /newroot \
  || { h "setup-failed overlay mount"; finish 125; }
for d in dev proc sys; do mkdir -p /newroot/$d && mount --bind /$d /newroot/$d; done
# /tmp comes from the overlay (its upper layer is already tmpfs), not from a tmpfs of its own: a
# checkout under /tmp on the host (a CI clone, say) is added at the same path and must stay visible.
mkdir -p /newroot/tmp /newroot/run && chmod 1777 /newroot/tmp
mkdir -p /newroot/.hearth-job && cp /job/cmd /newroot/.hearth-job/cmd
mkdir -p /newroot/etc
[ -s /newroot/etc/hosts ] || printf '127.0.0.1 localhost\n::1 localhost\n' >/newroot/etc/hosts

mkfifo /run/out /run/err
awk '{ printf "O|%s\n", $0; fflush() }' </run/out &
po=$!
awk '{ printf "E|%s\n", $0; fflush() }' </run/err &
pe=$!
h "job-start $(up)"
chroot /newroot /bin/sh /.hearth-job/cmd </dev/null >/run/out 2>/run/err
rc=$?
wait $po $pe
finish $rc
