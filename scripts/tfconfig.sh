#!/usr/bin/env bash
# Write the Terraform CLI configuration this project passes to every terraform
# call through TF_CLI_CONFIG_FILE.
#
# Where the machine has a preinstalled provider mirror (a folder holding
# registry.terraform.io/hashicorp/aws/...), Terraform installs providers from it
# and never reaches for the registry; elsewhere the file only sets a plugin
# cache and Terraform uses the registry as usual.
#
# Usage: scripts/tfconfig.sh OUTFILE   (OFFLOAD_TF_MIRROR=/path overrides the search)
set -euo pipefail

out=${1:?usage: tfconfig.sh OUTFILE}
mkdir -p "$(dirname "$out")"
cache="$(cd "$(dirname "$out")" && pwd)/terraform-plugin-cache"
mkdir -p "$cache"

mirror=${OFFLOAD_TF_MIRROR:-}
if [[ -z $mirror ]]; then
  found=$(find / -maxdepth 4 -type d -name registry.terraform.io -path '*/registry.terraform.io' \
    -not -path '*/.terraform/*' -not -path '*/terraform-plugin-cache/*' 2>/dev/null | head -n 1 || true)
  [[ -n $found ]] && mirror=$(dirname "$found")
fi

tmp="$out.tmp"
if [[ -n $mirror ]]; then
  cat >"$tmp" <<CFG
# Written by scripts/tfconfig.sh: providers come from the machine's mirror.
provider_installation {
  filesystem_mirror {
    path = "$mirror"
  }
  direct {
    exclude = ["registry.terraform.io/*/*"]
  }
}
CFG
else
  cat >"$tmp" <<CFG
# Written by scripts/tfconfig.sh: no provider mirror here, providers come from the registry.
plugin_cache_dir = "$cache"
CFG
fi
if ! cmp -s "$tmp" "$out" 2>/dev/null; then mv "$tmp" "$out"; else rm -f "$tmp"; fi
