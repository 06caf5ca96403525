package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
)

// Outputs are the environment outputs the suites use (docs/development.md,
// "Local environment outputs"), plus every output by name in Raw.
type Outputs struct {
	NamePrefix              string            `json:"name_prefix"`
	Environment             string            `json:"environment"`
	AuditQueueURL           string            `json:"audit_queue_url"`
	AuditQueueARN           string            `json:"audit_queue_arn"`
	AuditDLQURL             string            `json:"audit_dlq_url"`
	AuditDLQARN             string            `json:"audit_dlq_arn"`
	AuditTableName          string            `json:"audit_table_name"`
	SMSQueueURL             string            `json:"sms_queue_url"`
	SMSQueueARN             string            `json:"sms_queue_arn"`
	SMSDLQURL               string            `json:"sms_dlq_url"`
	SMSDLQARN               string            `json:"sms_dlq_arn"`
	SMSIdempotencyTableName string            `json:"sms_idempotency_table_name"`
	AlarmTopicARN           string            `json:"alarm_topic_arn"`
	NotificationsTopicARN   string            `json:"notifications_topic_arn"`
	FunctionNames           map[string]string `json:"function_names"`
	DLQAlarmNames           map[string]string `json:"dlq_alarm_names"`
	// EmulatorEndpoint and ExampleServiceURL are added by make run.
	EmulatorEndpoint  string `json:"emulator_endpoint"`
	ExampleServiceURL string `json:"example_service_url"`

	// Raw holds every output's value as JSON, by output name.
	Raw map[string]json.RawMessage `json:"-"`
}

// ParseOutputs reads `terraform output -json`: {"name": {"value": …, "type":
// …, "sensitive": …}, …}.
func ParseOutputs(b []byte) (Outputs, error) {
	var doc map[string]struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return Outputs{}, fmt.Errorf("parse terraform outputs: %w", err)
	}
	raw := make(map[string]json.RawMessage, len(doc))
	for k, v := range doc {
		raw[k] = v.Value
	}
	flat, err := json.Marshal(raw)
	if err != nil {
		return Outputs{}, fmt.Errorf("parse terraform outputs: %w", err)
	}
	var o Outputs
	if err := json.Unmarshal(flat, &o); err != nil {
		return Outputs{}, fmt.Errorf("parse terraform outputs: %w", err)
	}
	o.Raw = raw
	return o, nil
}

// ReadOutputs parses the outputs file at path.
func ReadOutputs(path string) (Outputs, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Outputs{}, fmt.Errorf("read outputs %s: %w", path, err)
	}
	return ParseOutputs(b)
}

// validate reports every output the helpers need that is missing.
func (o Outputs) validate() error {
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
