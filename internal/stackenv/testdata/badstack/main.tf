module "function" {
  source   = "../fn"
  for_each = { one = 1 }

  environment_variables = { X = base64encode("x") }
}
