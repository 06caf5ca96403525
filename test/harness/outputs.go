package harness

import (
	"fmt"
	"slices"

	"github.com/offload/offload/internal/tfoutputs"
)

// Outputs are the environment's outputs (internal/tfoutputs: the one type the
// ops CLI and the suites read them with).
type Outputs = tfoutputs.Outputs

// ParseOutputs reads `terraform output -json`: {"name": {"value": …, "type":
// …, "sensitive": …}, …}.
func ParseOutputs(b []byte) (Outputs, error) { return tfoutputs.Parse(b) }

// ReadOutputs parses the outputs file at path.
func ReadOutputs(path string) (Outputs, error) { return tfoutputs.Read(path) }

// validateOutputs reports every output the helpers need that is missing.
func validateOutputs(o Outputs) error {
	var missing []string
	for name, v := range map[string]string{
		"name_prefix": o.NamePrefix, "audit_queue_url": o.AuditQueueURL, "audit_dlq_url": o.AuditDLQURL,
		"audit_table_name": o.AuditTableName, "sms_queue_url": o.SMSQueueURL, "sms_dlq_url": o.SMSDLQURL,
		"alarm_topic_arn": o.AlarmTopicARN, "notifications_topic_arn": o.NotificationsTopicARN,
	} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		return fmt.Errorf("outputs lack %v", missing)
	}
	return nil
}
