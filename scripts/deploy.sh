#!/usr/bin/env bash
# Terraform for the real environments (dev, staging, prod): what the Makefile's
# deployment targets run, on a laptop and in .github/workflows/deploy.yml.
#
#   scripts/deploy.sh init    ENV               terraform init against the S3 state backend
#   scripts/deploy.sh plan    ENV PLANFILE      plan to PLANFILE (+ PLANFILE's .txt rendering, + .lock.hcl)
#   scripts/deploy.sh apply   ENV PLANFILE      apply exactly PLANFILE, nothing else
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
  echo "plan: $plan (text: $text)"
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
outputs) outputs "${3:-}" ;;
destroy) destroy ;;
*) die "unknown command ${cmd:-(none)}: init, plan, apply, outputs or destroy" ;;
esac
