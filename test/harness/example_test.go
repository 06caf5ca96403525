package harness_test

import (
	"fmt"

	"github.com/offload/offload/test/harness"
)

// The aws target reads the outputs `terraform output -json` wrote (make
// outputs ENV=dev), the same document make run writes for the local stack.
func ExampleParseOutputs() {
	o, err := harness.ParseOutputs([]byte(`{
	  "audit_queue_url": {"sensitive": false, "type": "string", "value": "https://sqs.eu-west-1.amazonaws.com/123456789012/offload-dev-audit"},
	  "function_names": {"sensitive": false, "type": ["map", "string"], "value": {"audit-receiver": "offload-dev-audit-receiver"}}
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(o.AuditQueueURL)
	fmt.Println(o.FunctionNames["audit-receiver"])
	// Output:
	// https://sqs.eu-west-1.amazonaws.com/123456789012/offload-dev-audit
	// offload-dev-audit-receiver
}
