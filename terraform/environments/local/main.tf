# The local environment. stack.tf, variables.tf and outputs.tf link the files in
# ../_shared (the same in every environment); this root sets its name here,
# its backend in versions.tf and its values in terraform.tfvars.
locals {
  environment = "local"
}
