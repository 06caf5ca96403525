# The dev environment. root.tf, versions.tf, variables.tf, stack.tf and
# outputs.tf link the files in ../_shared (the same in every environment);
# this root sets its name here, its backend in backend.tf and its values in
# terraform.tfvars.
locals {
  environment = "dev"
}
