package audit_test

import (
	"fmt"

	"github.com/offload/offload/pkg/audit"
)

func ExampleDecode() {
	// What the article's .NET producer sends: Newtonsoft.Json, 7 fractional
	// digits, a local offset, messageId omitted because it was null.
	body := []byte(`{"auditText":"Order 1001 shipped","auditTime":"2026-11-27T01:12:43.1234567+02:00"}`)
	m, err := audit.Decode(body)
	if err != nil {
		fmt.Println("permanent failure:", err)
		return
	}
	fmt.Println(m.AuditText)
	fmt.Println(audit.FormatTime(m.AuditTime))

	_, err = audit.Decode([]byte(`{"auditText":"","auditTime":"0001-01-01T00:00:00"}`))
	fmt.Println(err)
	// Output:
	// Order 1001 shipped
	// 2026-11-26T23:12:43.1234567Z
	// invalid audit message: auditText is empty
	// invalid audit message: auditTime is missing or 0001-01-01T00:00:00 (an unset .NET DateTime)
}
