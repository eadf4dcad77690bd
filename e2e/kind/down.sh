#!/usr/bin/env bash
# Deletes the Kind cluster that up.sh created (HEARTH_KIND_CLUSTER, default "hearth").
set -euo pipefail
kind delete cluster --name "${HEARTH_KIND_CLUSTER:-hearth}"
