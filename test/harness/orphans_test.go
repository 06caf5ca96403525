package harness

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The diagnostic CI printed when a busy machine made the emulator's answer to
// CreateTable fail after the table was made.
const tableOrphanOutput = `module.stack.module.audit_table.aws_dynamodb_table.this: Creation complete after 1s
╷
│ Error: creating AWS DynamoDB Table (offload-t-yj148v-dlq-alarm-handler-idempotency): operation error DynamoDB: CreateTable, https response error StatusCode: 400, RequestID: pCuQF9, ResourceInUseException: Table already exists: offload-t-yj148v-dlq-alarm-handler-idempotency
│
│   with module.stack.module.alarm_dedupe_table.aws_dynamodb_table.this,
│   on ../../modules/table/main.tf line 12, in resource "aws_dynamodb_table" "this":
│   12: resource "aws_dynamodb_table" "this" {
│
╵`

func TestFindOrphansNamesATableCreatedByALostAnswer(t *testing.T) {
	got := findOrphans(tableOrphanOutput)
	want := []orphan{{
		Address: "module.stack.module.alarm_dedupe_table.aws_dynamodb_table.this",
		ID:      "offload-t-yj148v-dlq-alarm-handler-idempotency",
	}}
	require.Equal(t, want, got)
	// Terratest's error (NoColor) prints the same diagnostic without margin.
	plain := strings.NewReplacer("│ ", "", "│", "", "╷\n", "", "╵", "").Replace(tableOrphanOutput)
	require.NotContains(t, plain, "│")
	require.Equal(t, want, findOrphans(plain))
}

func TestFindOrphansIgnoresOtherFailures(t *testing.T) {
	cases := map[string]string{
		"no error": "Apply complete! Resources: 3 added, 0 changed, 0 destroyed.",
		"a real error": `│ Error: creating AWS DynamoDB Table (x): operation error DynamoDB: CreateTable, ValidationException: bad key schema
│
│   with module.stack.module.audit_table.aws_dynamodb_table.this,`,
		"an orphan next to a real error": tableOrphanOutput + `
│ Error: creating IAM Role (r): AccessDenied: not allowed
│
│   with module.stack.module.audit.aws_iam_role.this,`,
		"an orphan that cannot be imported by name": `│ Error: creating SQS Queue Policy (q): already exists
│
│   with module.stack.aws_sqs_queue_policy.this,`,
	}
	for name, output := range cases {
		t.Run(name, func(t *testing.T) {
			require.Nil(t, findOrphans(output))
		})
	}
}
