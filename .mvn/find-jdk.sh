# Sourced by ./mvnw and ./hearth (POSIX sh). Picks a JDK 25 or newer without any setup by hand:
# JAVA_HOME when it is new enough, else the newest JDK under /usr/lib/jvm. Exits with one line
# saying what to install when there is none. HEARTH_JVM_ROOT replaces /usr/lib/jvm (for tests).
hearth_java_feature() {
  # Prints the feature release of the JDK at $1 (25 for "25.0.1"), or nothing.
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  _v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null)
  [ -n "$_v" ] || _v=$("$1/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
  printf '%s' "$_v"
}

hearth_find_jdk() {
  _min=25
  if [ -n "${JAVA_HOME-}" ]; then
    _f=$(hearth_java_feature "$JAVA_HOME")
    if [ -n "$_f" ] && [ "$_f" -ge "$_min" ]; then return 0; fi
  fi
  _best=""
  _bestf=0
  # mvnw runs with `set -f`; the glob below needs expansion.
  case $- in *f*) _noglob=1 ;; *) _noglob="" ;; esac
  set +f
  for _d in "${HEARTH_JVM_ROOT:-/usr/lib/jvm}"/*; do
    [ -d "$_d" ] || continue
    _f=$(hearth_java_feature "$_d")
    if [ -n "$_f" ] && [ "$_f" -ge "$_min" ] && [ "$_f" -gt "$_bestf" ]; then
      _best=$_d
      _bestf=$_f
    fi
  done
  [ -z "$_noglob" ] || set -f
  if [ -z "$_best" ]; then
    echo "hearth: no JDK $_min or newer found (JAVA_HOME=${JAVA_HOME:-unset}, none under ${HEARTH_JVM_ROOT:-/usr/lib/jvm}); install one, e.g. Temurin 25 (temurin-25-jdk), and retry" >&2
    exit 1
  fi
  JAVA_HOME=$_best
  export JAVA_HOME
}

hearth_find_jdk
