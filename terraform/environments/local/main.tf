# The local environment. root.tf, versions.tf, variables.tf, stack.tf and
# outputs.tf link the files in ../_shared (the same in every environment);
# this root sets its name here and its values in terraform.tfvars. No
# backend: local state (terraform.tfstate here, git-ignored), thrown away
# with the emulator.
locals {
  environment = "local"
}
