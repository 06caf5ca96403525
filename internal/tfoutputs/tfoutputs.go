// Package tfoutputs reads an environment's Terraform outputs
// (docs/development.md, "Local environment outputs") for the ops CLI and the
// test suites alike: the JSON `terraform output -json` prints ({"name":
// {"value": …, "type": …}}, what make run writes to .local/outputs.json) or a
// flat {"name": value} object.
package tfoutputs

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Outputs are the outputs offload's code reads by field, plus every output by
// name in Raw.
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
	AlarmDedupeTableName    string            `json:"alarm_dedupe_table_name"`
	AlarmTopicARN           string            `json:"alarm_topic_arn"`
	NotificationsTopicARN   string            `json:"notifications_topic_arn"`
	FunctionNames           map[string]string `json:"function_names"`
	FunctionARNs            map[string]string `json:"function_arns"`
	FunctionRoleNames       map[string]string `json:"function_role_names"`
	DLQAlarmNames           map[string]string `json:"dlq_alarm_names"`
	AgeAlarmNames           map[string]string `json:"oldest_message_age_alarm_names"`
	RetryBudgetSeconds      map[string]int    `json:"queue_retry_budget_seconds"`
	QueueMaxMessageSize     map[string]int    `json:"queue_max_message_size"`
	MappingUUIDs            map[string]string `json:"event_source_mapping_uuids"`
	TwilioSecretARN         string            `json:"twilio_secret_arn"`
	WebhookSecretARN        string            `json:"webhook_secret_arn"`
	TopicsKMSKeyARN         string            `json:"topics_kms_key_arn"`
	DashboardName           string            `json:"dashboard_name"`
	FailuresQueueURL        string            `json:"alarm_handler_failures_queue_url"`
	FailuresQueueARN        string            `json:"alarm_handler_failures_queue_arn"`
	FailuresAlarmName       string            `json:"alarm_handler_failures_alarm_name"`
	AlarmEmailTopicARN      string            `json:"alarm_email_topic_arn"`
	SMSRetentionSeconds     int               `json:"sms_idempotency_retention_seconds"`
	AlarmRetentionSeconds   int               `json:"alarm_dedupe_retention_seconds"`
	// EmulatorEndpoint and ExampleServiceURL are added by make run.
	EmulatorEndpoint  string `json:"emulator_endpoint"`
	ExampleServiceURL string `json:"example_service_url"`

	// Raw holds every output's value as JSON, by output name.
	Raw map[string]json.RawMessage `json:"-"`
}

// Parse reads outputs in either form; an output whose JSON is an object with
// a "value" member is taken as Terraform's wrapped form.
func Parse(b []byte) (Outputs, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		return Outputs{}, fmt.Errorf("parse terraform outputs: not a JSON object: %w", err)
	}
	raw := make(map[string]json.RawMessage, len(doc))
	for k, v := range doc {
		var wrapped struct {
			Value json.RawMessage `json:"value"`
		}
		if json.Unmarshal(v, &wrapped) == nil && wrapped.Value != nil {
			v = wrapped.Value
		}
		raw[k] = v
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

// Read parses the outputs file at path.
func Read(path string) (Outputs, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Outputs{}, fmt.Errorf("read outputs %s: %w", path, err)
	}
	o, err := Parse(b)
	if err != nil {
		return Outputs{}, fmt.Errorf("outputs %s: %w", path, err)
	}
	return o, nil
}

// Text returns the named output as text: a string's value, anything else
// (maps, lists, numbers) as its JSON. ok is false when there is no such output.
func (o Outputs) Text(name string) (text string, ok bool) {
	v, ok := o.Raw[name]
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s, true
	}
	return string(v), true
}

// Need returns the named output's text, or an error naming it when it is
// missing or empty.
func (o Outputs) Need(name string) (string, error) {
	v, ok := o.Text(name)
	if !ok || v == "" {
		return "", fmt.Errorf("the environment's outputs have no %q", name)
	}
	return v, nil
}

// Missing returns, sorted, the names among names whose output is missing or
// empty.
func (o Outputs) Missing(names ...string) []string {
	var missing []string
	for _, n := range names {
		if v, ok := o.Text(n); !ok || v == "" {
			missing = append(missing, n)
		}
	}
	slices.Sort(missing)
	return missing
}

// Names returns every output's name, sorted.
func (o Outputs) Names() []string {
	names := make([]string, 0, len(o.Raw))
	for k := range o.Raw {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// Pipelines returns the pipeline names (audit, sms, …), sorted: every X with
// an X_dlq_url output.
func (o Outputs) Pipelines() []string {
	var names []string
	for k := range o.Raw {
		if name, ok := strings.CutSuffix(k, "_dlq_url"); ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
