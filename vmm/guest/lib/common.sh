# Shared helpers for the guest and nested-harness build scripts. Sourced, not run.
# Cache root: $HEARTH_CACHE, else ~/.cache/hearth. Every artifact lives in a directory named by
# the hash of its inputs, so a changed input builds a new directory and an unchanged one is reused.

HEARTH_CACHE="${HEARTH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hearth}"

log() { printf '[%s %s] %s\n' "$(date -u +%H:%M:%S)" "${HEARTH_LOG_TAG:-guest}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Installed version of a Debian package, or empty.
pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }

# Installs the named Debian packages that are missing (apt-get update once, only when needed).
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing packages ${missing[*]}; install them (apt-get install) or run as root"
  log "installing ${missing[*]}"
  # Other builds may hold the dpkg lock: wait for it rather than fail.
  local wait=(-o DPkg::Lock::Timeout=900)
  { apt-get "${wait[@]}" update -qq && DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" install -y -qq \
      --no-install-recommends "${missing[@]}"; } >&2 || die "apt-get install ${missing[*]} failed"
}

# Hash of inputs: each argument is a file (hashed by content, with its base name) or a literal
# string (hashed as is). Prints 16 hex digits.
hash_inputs() {
  local a
  for a in "$@"; do
    if [ -f "$a" ]; then printf 'file %s\n' "$(basename "$a")"; sha256sum <"$a"; else printf 'str %s\n' "$a"; fi
  done | sha256sum | cut -c1-16
}

# Hash of every file under a directory tree (paths relative to it, with modes and contents).
hash_tree() {
  (cd "$1" && find . \( -type f -o -type l \) -print0 | LC_ALL=C sort -z \
    | xargs -0 -r stat -c '%n %a %s' ; find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) \
    | sha256sum | cut -c1-16
}

# Runs "$@" while holding an exclusive lock on file $1 (serialises concurrent builds of one key).
with_lock() {
  local lockfile=$1; shift
  mkdir -p "$(dirname "$lockfile")"
  exec {lockfd}>"$lockfile"
  flock "$lockfd"
  "$@"
  local rc=$?
  exec {lockfd}>&-
  return $rc
}

# Removes all but the newest $2 directories matching $1 (a glob), with their lock files.
prune_old() {
  local d
  ls -dt $1 2>/dev/null | grep -v -E '\.(lock|tmp)$' | tail -n +$(( $2 + 1 )) | while IFS= read -r d; do
    rm -rf "$d" "$d.lock"
  done
}
