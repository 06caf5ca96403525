#!/usr/bin/env bash
# The Terraform security scan: trivy (tfsec's maintained successor, built by
# `make scan` into bin/ from tools/trivy/go.mod) with its embedded checks,
# offline. MEDIUM and above fail. A finding is fixed, or skipped where it is
# by a `#trivy:ignore:<ID>` / `#tfsec:ignore:<id>` comment that says why.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
trivy="$root/bin/trivy"
[[ -x $trivy ]] || { echo "scan: $trivy is missing: run \`make scan\` (it builds it)" >&2; exit 1; }

echo "== trivy config terraform/ (MEDIUM and above fail)"
"$trivy" config --quiet --skip-check-update --cache-dir "$root/.local/trivy-cache" \
  --severity MEDIUM,HIGH,CRITICAL --exit-code 1 terraform/
echo "scan passed"
