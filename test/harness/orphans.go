package harness

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/gruntwork-io/terratest/modules/logger"
	"github.com/gruntwork-io/terratest/modules/terraform"
	tttesting "github.com/gruntwork-io/terratest/modules/testing"
)

// An orphan is a resource a create call made although the provider reported
// the call as failed: the first attempt's answer was lost (a 5xx, a reset
// connection), the SDK retried, and the retry met the first attempt's resource
// ("Table already exists"). The provider then fails the apply and leaves the
// resource out of state (hashicorp/terraform-provider-aws#30460, open). It
// happens on AWS after a burst of InternalFailure/Throttling answers, and on
// the emulator when a busy machine makes an answer time out.
type orphan struct {
	Address string // e.g. module.stack.module.alarm_dedupe_table.aws_dynamodb_table.this
	ID      string // the import ID: the name the create used
}

// orphanBlock matches one diagnostic of `terraform apply` (with or without
// its box-drawing margin): the create that met its own resource, and the
// `with <address>,` line that names it.
var orphanBlock = regexp.MustCompile(`(?s)Error: creating [^(\n]*\(([^)\n]+)\):[^\n]*(?:already exists?|AlreadyExists)[^\n]*\n[\s│]*\n[\s│]*with ([^,\s]+),`)

// importByName lists the resource types whose import ID is the name the
// create call used; an orphan of any other type is not adopted.
var importByName = map[string]bool{
	"aws_dynamodb_table":       true,
	"aws_iam_role":             true,
	"aws_lambda_function":      true,
	"aws_cloudwatch_log_group": true,
}

// findOrphans returns the resources an apply's error output says were created
// by an attempt whose answer was lost, if every failure in it is one of them
// and of a type that can be imported by name. Any other failure returns nil:
// a real error must not be retried away.
func findOrphans(output string) []orphan {
	matches := orphanBlock.FindAllStringSubmatch(output, -1)
	if len(matches) == 0 || len(matches) != strings.Count(output, "Error: ") {
		return nil
	}
	var out []orphan
	for _, m := range matches {
		addr := m[2]
		parts := strings.Split(addr, ".")
		if len(parts) < 2 || !importByName[strings.SplitN(parts[len(parts)-2], "[", 2)[0]] {
			return nil
		}
		out = append(out, orphan{Address: addr, ID: m[1]})
	}
	return out
}

// initAndApplyAdoptingOrphans runs init and apply; when the apply fails only
// because creates met their own lost-answer attempts, it imports those
// resources and applies again (a few rounds: each apply may orphan another).
// Import takes its options before ADDR and ID, so those go last.
func initAndApplyAdoptingOrphans(t tttesting.TestingT, opts *terraform.Options) error {
	if _, err := terraform.InitE(t, opts); err != nil {
		return err
	}
	return ApplyAdoptingOrphans(t, opts)
}

// ApplyAdoptingOrphans is `terraform apply` that adopts the resources of
// creates whose answer was lost (see orphan) and applies again, for suites
// that apply a root of their own (test/infra). Any other failure is returned.
func ApplyAdoptingOrphans(t tttesting.TestingT, opts *terraform.Options) error {
	_, err := terraform.ApplyE(t, opts)
	for round := 0; err != nil && round < 3; round++ {
		orphans := findOrphans(err.Error())
		if orphans == nil {
			return err
		}
		for _, o := range orphans {
			logger.Default.Logf(t, "apply: %s (%s) was created by an attempt whose answer was lost; importing it (hashicorp/terraform-provider-aws#30460)", o.Address, o.ID)
			if _, ierr := terraform.RunTerraformCommandE(t, opts, append(terraform.FormatArgs(opts, "import", "-input=false"), o.Address, o.ID)...); ierr != nil {
				return fmt.Errorf("import %s after a lost create answer: %w (apply: %v)", o.Address, ierr, err)
			}
		}
		_, err = terraform.ApplyE(t, opts)
	}
	return err
}
