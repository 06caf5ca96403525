#!/usr/bin/env bash
# Terraform for the real environments (dev, staging, prod): what the Makefile's
# deployment targets run, on a laptop and in .github/workflows/deploy.yml.
#
#   scripts/deploy.sh init    ENV               terraform init against the S3 state backend
#   scripts/deploy.sh plan    ENV PLANFILE      plan to PLANFILE (+ .txt rendering, .lock.hcl, .sha256 of the plan)
#   scripts/deploy.sh apply   ENV PLANFILE      apply exactly PLANFILE, nothing else
#   scripts/deploy.sh apply-reviewed ENV SHA256 plan again, refuse unless the plan's hash is SHA256, apply it
#
# CI never moves a plan file between jobs (a plan holds state and variable
# values; artifacts are readable by anyone who can read the repository): the
# plan job publishes the plan's hash (plan_sha256 in $GITHUB_OUTPUT) and the
# apply job runs apply-reviewed with it.
#   scripts/deploy.sh outputs ENV OUTFILE       terraform output -json > OUTFILE
#   scripts/deploy.sh destroy ENV               terraform destroy (asks for confirmation)
#
# The backend comes from the environment: TF_STATE_BUCKET (the bucket
# terraform/bootstrap created) and AWS_REGION. Credentials come from the usual
# AWS chain (OIDC role in CI, your profile on a laptop). TF_LOCK=false plans
# without taking the state lock (the read-only plan roles cannot write it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

die() {
  echo "deploy: $*" >&2
  exit 1
}

cmd=${1:-}
env=${2:-}
case $env in
dev | staging | prod) ;;
"") die "usage: scripts/deploy.sh init|plan|apply|outputs|destroy ENV [FILE] (ENV: dev, staging or prod)" ;;
*) die "ENV=$env: deployable environments are dev, staging and prod (the local one is \`make run\`)" ;;
esac
dir="terraform/environments/$env"
[[ -d $dir ]] || die "$dir does not exist"
command -v terraform >/dev/null || die "terraform is missing: install Terraform >= 1.11"

# abspath FILE: terraform -chdir resolves relative paths from $dir, callers from the repo root.
abspath() {
  case $1 in
  /*) echo "$1" ;;
  *) echo "$root/$1" ;;
  esac
}

# The zips that make build wrote; relative to the environment directory so that
# a plan made in one CI job applies in another checkout of the same repository.
dist_var="-var=dist_dir=../../../dist"

init() {
  [[ -n ${TF_STATE_BUCKET:-} ]] || die "TF_STATE_BUCKET is not set: the state bucket terraform/bootstrap created (README: Deploy to AWS)"
  [[ -n ${AWS_REGION:-} ]] || die "AWS_REGION is not set: the region of the state bucket"
  # A plan carries the provider versions it was made with: apply installs the same.
  local lock=${1:-}
  if [[ -n $lock && -f $lock ]]; then cp "$lock" "$dir/.terraform.lock.hcl"; fi
  terraform -chdir="$dir" init -input=false -no-color -reconfigure \
    -backend-config="bucket=$TF_STATE_BUCKET" \
    -backend-config="region=$AWS_REGION" >"$root/.local/init-$env.log" ||
    { cat "$root/.local/init-$env.log" >&2; die "terraform init of $dir failed"; }
  echo "initialised $dir (state s3://$TF_STATE_BUCKET/offload/$env.tfstate)"
}

need_zips() {
  compgen -G "dist/*.zip" >/dev/null || die "no dist/*.zip: run \`make build\` first (CI downloads them from the build job)"
}

plan() {
  local plan text
  plan=$(abspath "${1:?plan file}")
  text="${plan%.tfplan}.txt"
  need_zips
  mkdir -p "$(dirname "$plan")"
  init
  terraform -chdir="$dir" plan -input=false -no-color -lock="${TF_LOCK:-true}" -out="$plan" "$dist_var" |
    tee "$root/.local/plan-$env.log"
  terraform -chdir="$dir" show -no-color "$plan" >"$text"
  cp "$dir/.terraform.lock.hcl" "${plan%.tfplan}.lock.hcl"
  local sum
  sum=$(plan_sha256 "$plan")
  echo "$sum" >"${plan%.tfplan}.sha256"
  echo "plan: $plan (text: $text, sha256 $sum)"
  if [[ -n ${GITHUB_OUTPUT:-} ]]; then
    echo "plan_sha256=$sum" >>"$GITHUB_OUTPUT"
  fi
  if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
    summary "$text" >>"$GITHUB_STEP_SUMMARY"
  fi
}

# summary TEXT: the plan as Markdown for the job summary (GitHub caps a step's
# summary at 1 MiB; long plans are cut with a note).
summary() {
  local text=$1 max=60000 headline
  headline=$(grep -E '^(Plan:|No changes\.|Changes to Outputs:)' "$text" | head -n 1 || true)
  echo "### terraform plan: $env"
  echo
  echo "**${headline:-see the plan below}**"
  echo
  echo '<details><summary>plan</summary>'
  echo
  echo '```'
  head -c "$max" "$text"
  if (($(wc -c <"$text") > max)); then echo; echo "... cut at $max bytes: the full plan is in the job log"; fi
  echo '```'
  echo '</details>'
}

apply() {
  local plan
  plan=$(abspath "${1:?plan file}")
  [[ -f $plan ]] || die "plan file $plan does not exist: apply takes the file \`make plan\` wrote (PLAN=...)"
  need_zips
  init "${plan%.tfplan}.lock.hcl"
  # A saved plan is applied as it is: no variables, no refresh, no new plan.
  # Terraform refuses it when the state changed since it was made (stale plan).
  terraform -chdir="$dir" apply -input=false -no-color "$plan" | tee "$root/.local/apply-$env.log"
}

# plan_sha256 PLANFILE: SHA-256 of what the plan would change — the resource
# and output changes of `terraform show -json`, keys sorted, compact. The
# rest (timestamp, Terraform version, prior state with the caller's identity)
# differs between two plans of the same change and is left out.
plan_sha256() {
  command -v jq >/dev/null || die "jq is missing (the plan hash normalises terraform show -json with it)"
  terraform -chdir="$dir" show -json "$1" |
    jq -cS '{resource_changes: (.resource_changes // []), output_changes: (.output_changes // {})}' |
    sha256sum | cut -d' ' -f1
}

# apply_reviewed SHA256: plan again (with the state lock) and apply that plan
# only if it is the one that was reviewed; anything else — a changed state, a
# different commit or zip, a tampered hash — is refused before any change.
apply_reviewed() {
  local want=${1:-} plan sum
  [[ $want =~ ^[0-9a-f]{64}$ ]] || die "PLAN_SHA256 must be the 64-hex plan_sha256 of the reviewed plan (got '${want}')"
  need_zips
  plan="$root/.local/plan-$env-apply.tfplan"
  init
  terraform -chdir="$dir" plan -input=false -no-color -out="$plan" "$dist_var" >"$root/.local/replan-$env.log" ||
    { cat "$root/.local/replan-$env.log" >&2; die "re-plan of $env failed"; }
  sum=$(plan_sha256 "$plan")
  if [[ $sum != "$want" ]]; then
    terraform -chdir="$dir" show -no-color "$plan" >&2
    die "the plan now differs from the reviewed one (reviewed $want, now $sum): nothing applied; plan and review again"
  fi
  echo "plan matches the reviewed one ($sum): applying it"
  terraform -chdir="$dir" apply -input=false -no-color "$plan" | tee "$root/.local/apply-$env.log"
}

outputs() {
  local out
  out=$(abspath "${1:?outputs file}")
  mkdir -p "$(dirname "$out")"
  init
  terraform -chdir="$dir" output -json >"$out.tmp"
  mv "$out.tmp" "$out"
  echo "outputs: $out"
}

destroy() {
  need_zips
  init
  echo "destroying $env: terraform asks for confirmation (deletion protection on tables must be off first)"
  terraform -chdir="$dir" destroy -input=true "$dist_var"
}

mkdir -p "$root/.local"
case $cmd in
init) init ;;
plan) plan "${3:-}" ;;
apply) apply "${3:-}" ;;
apply-reviewed) apply_reviewed "${3:-}" ;;
outputs) outputs "${3:-}" ;;
destroy) destroy ;;
*) die "unknown command ${cmd:-(none)}: init, plan, apply, apply-reviewed, outputs or destroy" ;;
esac
