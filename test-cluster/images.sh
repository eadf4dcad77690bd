#!/usr/bin/env bash
# Container images for the test node, built here without any registry and imported into containerd's
# k8s.io namespace (the containerd that `node.sh up` runs):
#   test-cluster/images.sh pause    the sandbox image: a static C program FROM scratch
#   test-cluster/images.sh hearth   a base (debootstrap minbase + a jlink'd JRE 25), then the operator and
#                                   agent from docker/*.Dockerfile as written (--build-arg BASE_IMAGE), from
#                                   the Maven build outputs; prints HEARTH_OPERATOR_IMAGE=... and
#                                   HEARTH_AGENT_IMAGE=... (repository:tag) on stdout
# Each image is tagged with a hash of its inputs and kept as an archive in the cache
# (HEARTH_IMAGE_CACHE, default ~/.cache/hearth/images), so a warm run only imports, or does nothing when
# containerd has it already. Needs root, buildah and debootstrap (apt-get installs them), gcc, and a
# JDK 25 for jlink (HEARTH_JDK, else the build's). Env: DEBIAN_MIRROR, DEBIAN_SUITE.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${HEARTH_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hearth/images}
# jlink comes from the JDK the build uses (HEARTH_JDK, else what ./mvnw picks: JAVA_HOME or the newest
# JDK 25+ under /usr/lib/jvm)
JDK=${HEARTH_JDK:-$(. "$ROOT/.mvn/find-jdk.sh" >&2 && echo "$JAVA_HOME")}
SUITE=${DEBIAN_SUITE:-bookworm} MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The JRE's modules: what the operator and agent use at run time (TLS, HTTP server and client, JMX,
# java.beans in java.desktop for libraries' reflection).
MODULES=java.base,java.desktop,java.logging,java.management,java.naming,java.net.http,java.security.jgss,java.security.sasl,java.sql,java.xml,jdk.crypto.cryptoki,jdk.crypto.ec,jdk.httpserver,jdk.management,jdk.naming.dns,jdk.unsupported,jdk.zipfs
CTR="ctr --address /run/containerd/containerd.sock -n k8s.io"
log() { echo "== images: $*" >&2; }
die() { echo "images.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
mkdir -p "$CACHE"

need() { # need PACKAGE...: apt-get installs the missing ones
  local p missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  [ ${#missing[@]} = 0 ] && return
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >"$CACHE/apt.log" 2>&1 \
    || { tail -5 "$CACHE/apt.log" >&2; die "apt-get install ${missing[*]} failed"; }
}
hash() { sha256sum | cut -c1-16; }
in_containerd() { local all; all=$($CTR images ls -q 2>/dev/null) && grep -qxF "$1" <<<"$all"; }
in_buildah() { buildah inspect --type image "$1" >/dev/null 2>&1; }

# provide REF BUILD-FUNCTION: REF into containerd, from the cached archive, built by BUILD-FUNCTION
# (which leaves REF in buildah's store) when there is none. Older tags of the same repository go.
provide() {
  local ref=$1 build=$2 repo=${1%:*} tar="$CACHE/$(echo "${1%:*}" | tr / _)-${1##*:}.tar" old
  in_containerd "$ref" && return 0
  if [ ! -f "$tar" ]; then
    in_buildah "$ref" || "$build" "$ref"
    buildah push -q "$ref" "docker-archive:$tar.tmp:$ref" >/dev/null && mv "$tar.tmp" "$tar"
  fi
  log "import $ref"
  $CTR images import "$tar" >/dev/null
  for old in $($CTR images ls -q | grep "^$repo:" | grep -vxF "$ref"); do $CTR images rm "$old" >/dev/null; done
  for old in "$CACHE/$(echo "$repo" | tr / _)"-*.tar; do [ "$old" = "$tar" ] || rm -f "$old"; done
}

# --- pause: waits for SIGTERM and reaps orphans
PAUSE_C='#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
static void quit(int s) { (void)s; _exit(0); }
static void reap(int s) { (void)s; while (waitpid(-1, NULL, WNOHANG) > 0) {} }
int main(void) {
  struct sigaction q = {.sa_handler = quit}, r = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP};
  sigaction(SIGINT, &q, NULL); sigaction(SIGTERM, &q, NULL); sigaction(SIGCHLD, &r, NULL);
  for (;;) pause();
}'
build_pause() {
  local w; w=$(mktemp -d); need buildah gcc libc6-dev
  log "build $1 (static C, FROM scratch)"
  printf '%s\n' "$PAUSE_C" > "$w/pause.c"
  gcc -Os -static -s -o "$w/pause" "$w/pause.c"
  printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' > "$w/Containerfile"
  buildah bud -q --layers=false -t "$1" "$w" >/dev/null; rm -rf "$w"
}
pause() {
  # node.sh names this reference in containerd's sandbox_image; the tag is fixed for that reason
  provide localhost/hearth-test/pause:1 build_pause
}

# --- base: Debian minbase and a jlink'd JRE; the cache key is everything that goes into it
BASE_FILE='FROM scratch
ADD rootfs.tar /
COPY jre /opt/java/openjdk
ENV JAVA_HOME=/opt/java/openjdk PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
CMD ["bash"]'
build_base() {
  local w; w=$(mktemp -d "$CACHE/base.XXXX"); need buildah debootstrap
  log "build $1 (debootstrap --variant=minbase $SUITE, jlink from $JDK)"
  debootstrap --variant=minbase "$SUITE" "$w/rootfs" "$MIRROR" >"$w/debootstrap.log" 2>&1 \
    || { tail -5 "$w/debootstrap.log" >&2; die "debootstrap failed"; }
  rm -rf "$w"/rootfs/var/cache/apt/archives/*.deb "$w"/rootfs/var/lib/apt/lists/*
  tar --numeric-owner -C "$w/rootfs" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf "$w/rootfs.tar" .
  rm -rf "$w/rootfs"
  "$JDK/bin/jlink" --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files --compress=zip-6 --output "$w/jre"
  printf '%s\n' "$BASE_FILE" > "$w/Containerfile"
  buildah bud -q --layers=false -t "$1" "$w" >/dev/null; rm -rf "$w"
}
base_ref() {
  [ -x "$JDK/bin/jlink" ] || die "no jlink in HEARTH_JDK=$JDK"
  echo "localhost/hearth-test/base:$({ echo "$SUITE $MIRROR $MODULES $BASE_FILE"; cat "$JDK/release"; } | hash)"
}
ensure_base_in_buildah() { # the Dockerfiles build FROM it
  local ref=$1 tar="$CACHE/localhost_hearth-test_base-${1##*:}.tar"
  in_buildah "$ref" && return
  if [ -f "$tar" ]; then buildah pull -q "docker-archive:$tar" >/dev/null; else build_base "$ref"
    buildah push -q "$ref" "docker-archive:$tar.tmp:$ref" >/dev/null && mv "$tar.tmp" "$tar"; fi
  for old in "$CACHE"/localhost_hearth-test_base-*.tar; do [ "$old" = "$tar" ] || rm -f "$old"; done
}

# --- operator and agent: docker/<c>.Dockerfile as written, from the Maven outputs it COPYs
# A jar's content (entry names and CRCs), not its bytes: a rebuild of unchanged sources stamps new
# entry times, and should not cost a new image.
jar_digest() {
  if unzip -Z1 "$1" >/dev/null 2>&1; then
    unzip -lv "$1" | awk 'NF >= 8 && length($7) == 8 && $7 ~ /^[0-9a-f]+$/ {print $7, $8}' | sort | hash
  else hash < "$1"; fi
}
BASE=""
build_component() { # build_component REF (COMPONENT in $c)
  log "build $1 (docker/$c.Dockerfile, BASE_IMAGE=$BASE)"
  (cd "$ROOT" && buildah bud --network host --layers --build-arg "BASE_IMAGE=$BASE" -f "docker/$c.Dockerfile" -t "$1" .) \
    >"$CACHE/build-$c.log" 2>&1 || { tail -20 "$CACHE/build-$c.log" >&2; die "buildah bud docker/$c.Dockerfile failed"; }
}
hearth() {
  local c dir jar ref
  need unzip
  BASE=$(base_ref)
  for c in operator agent; do
    case $c in operator) dir=operator jar=hearth-operator.jar ;; agent) dir=node-agent jar=hearth.jar ;; esac
    [ -f "$ROOT/$dir/target/$jar" ] || die "no $dir/target/$jar: run ./mvnw -DskipTests package first"
    ref="localhost/hearth/$c:t-$( { echo "$BASE"; cat "$ROOT/docker/$c.Dockerfile"*;
      (cd "$ROOT/$dir/target" && find "$jar" lib -type f | sort | while read -r f; do echo "$f $(jar_digest "$f")"; done); } | hash)"
    if ! in_containerd "$ref" && [ ! -f "$CACHE/$(echo "${ref%:*}" | tr / _)-${ref##*:}.tar" ]; then
      ensure_base_in_buildah "$BASE"
    fi
    provide "$ref" build_component
    buildah rmi "$ref" >/dev/null 2>&1 || true # the archive keeps it; buildah keeps the layers for the next build
    echo "HEARTH_$(echo $c | tr a-z A-Z)_IMAGE=$ref"
  done
}

$CTR version >/dev/null 2>&1 || die "no containerd at /run/containerd/containerd.sock (run test-cluster/node.sh up first)"
case ${1:-} in
  pause) pause ;;
  hearth) hearth ;;
  *) sed -n '2,8p' "$0" >&2; exit 2 ;;
esac
