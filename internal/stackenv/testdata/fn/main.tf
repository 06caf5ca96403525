variable "environment_variables" {
  type = map(string)
}

variable "log_level" {
  type    = string
  default = "info"
}

resource "aws_lambda_function" "this" {
  environment {
    variables = merge(var.environment_variables, { LOG_LEVEL = upper(var.log_level) })
  }
}
