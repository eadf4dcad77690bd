#!/bin/sh
# Copies the generated CRDs (crds/yaml/*.yml) into the chart (helm/hearth/crds/), removing chart
# copies whose source is gone. The chart's CRDs are never edited by hand: change the API model,
# regenerate crds/yaml/ (see crds/pom.xml), then run this. ChartCrdsTest fails while they differ.
#   helm/sync-crds.sh [SOURCE_DIR TARGET_DIR]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
src=${1:-$root/crds/yaml}
dst=${2:-$root/helm/hearth/crds}

mkdir -p "$dst"
for old in "$dst"/*.yml; do
  [ -e "$old" ] || continue
  [ -e "$src/$(basename "$old")" ] || { rm -f "$old"; echo "sync-crds: removed $(basename "$old")" >&2; }
done
[ -d "$src" ] || { echo "sync-crds: no $src yet; nothing to copy" >&2; exit 0; }
for crd in "$src"/*.yml; do
  [ -e "$crd" ] || continue
  if ! cmp -s "$crd" "$dst/$(basename "$crd")"; then
    cp "$crd" "$dst/"
    echo "sync-crds: updated $(basename "$crd")" >&2
  fi
done
