//go:build e2e

package infra

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/gruntwork-io/terratest/modules/terraform"
	test_structure "github.com/gruntwork-io/terratest/modules/test-structure"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/internal/tfoutputs"
	"github.com/offload/offload/test/harness"
)

// The function folders the stack deploys (functions/<folder>).
var folders = []string{"audit-receiver", "sms-sender", "dlq-alarm-handler"}

// Which function consumes which queue.
var consumers = map[string]string{"audit": "audit-receiver", "sms": "sms-sender"}

// What environments/local/terraform.tfvars sets, as the deployed values must show.
const (
	localTimeout         = 3  // function_timeout_seconds
	localVisibility      = 18 // 6 x the timeout, batching window 0
	localMaxReceiveCount = 3
	localAlarmPeriod     = 10
	localAgeThreshold    = 60
	localLogRetention    = 1
	// Idempotency retention (terraform/stack/retention.tf): SMS queue 4 days
	// + DLQ 10 days + visibility; alarm event age 6 h + failures queue
	// 14 days + the handler's timeout.
	localSMSRetention   = 345600 + 864000 + localVisibility
	localAlarmRetention = 21600 + 1209600 + localTimeout
)

// The local retry budget (queue_overrides backoff, 3 receives): 2+4+8 s and
// 5+10+20 s, short for test speed.
const localAuditBackoff, localSMSBackoff = "2s", "5s"

// Maximum concurrency per queue (the stack's defaults).
var maximumConcurrency = map[string]int32{"audit": 5, "sms": 2}

// The only actions allowed on resource "*", each with its reason (terraform/stack/README.md).
var allowedStar = map[string]string{
	"xray:PutTraceSegments":    "X-Ray has no resource-level permissions",
	"xray:PutTelemetryRecords": "X-Ray has no resource-level permissions",
	"sns:Publish":              "SMS to a phone number has no resource ARN; fenced by a Deny on every SNS ARN (sms-sender only)",
}

// outputs are the environment's outputs (docs/development.md), read as the
// ops CLI reads them.
type outputs = tfoutputs.Outputs

// queue is one work queue with its DLQ, by the outputs.
type queue struct{ url, arn, dlqURL, dlqARN string }

// dlqName is the DLQ's name, the last part of its ARN.
func (q queue) dlqName() string { return q.dlqARN[strings.LastIndex(q.dlqARN, ":")+1:] }

// queues are the work queues of the outputs, by pipeline.
func queues(o outputs) map[string]queue {
	return map[string]queue{
		"audit": {o.AuditQueueURL, o.AuditQueueARN, o.AuditDLQURL, o.AuditDLQARN},
		"sms":   {o.SMSQueueURL, o.SMSQueueARN, o.SMSDLQURL, o.SMSDLQARN},
	}
}

// clients are built once for the whole test.
type clients struct {
	sqs     *sqs.Client
	lambda  *lambda.Client
	iam     *iam.Client
	cw      *cloudwatch.Client
	logs    *cloudwatchlogs.Client
	ddb     *dynamodb.Client
	sns     *sns.Client
	secrets *secretsmanager.Client
	kms     *kms.Client
	account string
	region  string
}

// TestLocalEnvironment applies terraform/environments/local to the emulator,
// proves the second plan is empty, asserts what was deployed, and destroys it
// within the 5-minute budget.
func TestLocalEnvironment(t *testing.T) {
	if target := os.Getenv("OFFLOAD_TEST_TARGET"); target != "" && target != "local" {
		t.Skipf("OFFLOAD_TEST_TARGET=%s: this suite deploys its own copy of environments/local into the emulator", target)
	}
	ctx := context.Background()
	c := newClients(t)
	repo := repoRoot(t)

	prefix := "offload-t-" + strings.ToLower(random.UniqueId())
	dir := test_structure.CopyTerraformFolderToTemp(t, filepath.Join(repo, "terraform"), "environments/local")
	opts := &terraform.Options{
		TerraformDir: dir,
		// The copy leaves terraform.tfvars out; the environment's values are
		// what is under test, so read them from the original.
		VarFiles:             []string{filepath.Join(repo, "terraform", "environments", "local", "terraform.tfvars")},
		Vars:                 map[string]interface{}{"name_prefix": prefix, "dist_dir": fixtureZips(t)},
		SetVarsAfterVarFiles: true,
		EnvVars:              terraformEnv(t, repo),
		NoColor:              true,
	}

	// Registered before apply: whatever fails below, the stack is destroyed.
	destroyed := false
	defer func() {
		if !destroyed {
			terraform.Destroy(t, opts)
		}
	}()

	start := time.Now()
	terraform.Init(t, opts)
	initTime := time.Since(start)

	start = time.Now()
	require.NoError(t, harness.ApplyAdoptingOrphans(t, opts), "apply environments/local")
	applyTime := time.Since(start)

	start = time.Now()
	exit := terraform.PlanExitCode(t, opts)
	planTime := time.Since(start)
	require.Equal(t, 0, exit, "a second plan must show no changes (exit code 2 = drift)")

	out := readOutputs(t, opts)
	require.Equal(t, prefix, out.NamePrefix)

	t.Run("outputs", func(t *testing.T) { checkOutputs(t, out) })
	t.Run("queues", func(t *testing.T) { checkQueues(ctx, t, c, out) })
	t.Run("functions", func(t *testing.T) { checkFunctions(ctx, t, c, out) })
	t.Run("event source mappings", func(t *testing.T) { checkMappings(ctx, t, c, out) })
	t.Run("alarms", func(t *testing.T) { checkAlarms(ctx, t, c, out) })
	t.Run("topics", func(t *testing.T) { checkTopics(ctx, t, c, out) })
	t.Run("tables", func(t *testing.T) { checkTables(ctx, t, c, out) })
	t.Run("secrets", func(t *testing.T) { checkSecrets(ctx, t, c, out) })
	t.Run("log groups", func(t *testing.T) { checkLogGroups(ctx, t, c, out) })
	t.Run("dashboard", func(t *testing.T) { checkDashboard(ctx, t, c, out) })
	t.Run("alarm handler on-failure destination", func(t *testing.T) { checkAlarmHandlerFailures(ctx, t, c, out) })
	t.Run("iam", func(t *testing.T) { checkIAM(ctx, t, c, out) })
	t.Run("iam check catches a widened deployed policy", func(t *testing.T) { checkIAMCatchesWidening(ctx, t, c, out) })

	start = time.Now()
	terraform.Destroy(t, opts)
	destroyed = true
	destroyTime := time.Since(start)

	t.Run("destroy leaves nothing", func(t *testing.T) { checkNothingLeft(ctx, t, c, out) })

	total := applyTime + planTime + destroyTime
	t.Logf("timings: init %s, apply %s, plan %s, destroy %s; apply+plan+destroy %s",
		initTime.Round(time.Second), applyTime.Round(time.Second), planTime.Round(time.Second),
		destroyTime.Round(time.Second), total.Round(time.Second))
	// Reported, not asserted: a wall-clock bound fails on a busy machine, and
	// an apply that adopts an orphan (a create whose answer the emulator
	// lost) spends the provider's own retry budget first — CreateFunction
	// retries "already exists" (ResourceConflictException) for 5 minutes.
}

func newClients(t *testing.T) *clients {
	t.Helper()
	cfg := testenv.AWSConfig(t)
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	return &clients{
		sqs:     sqs.NewFromConfig(cfg),
		lambda:  lambda.NewFromConfig(cfg),
		iam:     iam.NewFromConfig(cfg),
		cw:      cloudwatch.NewFromConfig(cfg, cloudWatchQueryProtocol),
		logs:    cloudwatchlogs.NewFromConfig(cfg),
		ddb:     dynamodb.NewFromConfig(cfg),
		sns:     sns.NewFromConfig(cfg),
		secrets: secretsmanager.NewFromConfig(cfg),
		kms:     kms.NewFromConfig(cfg),
		account: aws.ToString(id.Account),
		region:  cfg.Region,
	}
}

// cloudWatchQueryProtocol makes the CloudWatch client speak awsQuery, which
// CloudWatch still serves, instead of the SDK's default RPCv2 CBOR, which moto
// 5.2 answers with 404 (as internal/localrt.CloudWatchQueryProtocol does).
func cloudWatchQueryProtocol(o *cloudwatch.Options) {
	o.Protocol = awsquery.New(&smithy.ServiceSchema{Version: "2010-08-01"})
}

// repoRoot is the repository root (this file is test/infra/…).
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// terraformEnv makes every terraform call read the project's CLI config (the
// provider mirror): the one in TF_CLI_CONFIG_FILE when it exists (make sets
// it), else .local/terraformrc, written by scripts/tfconfig.sh when missing.
func terraformEnv(t *testing.T, repo string) map[string]string {
	t.Helper()
	env := map[string]string{"TF_IN_AUTOMATION": "1"}
	if f := os.Getenv("TF_CLI_CONFIG_FILE"); f != "" {
		if _, err := os.Stat(f); err == nil {
			return env
		}
	}
	rc := filepath.Join(repo, ".local", "terraformrc")
	if _, err := os.Stat(rc); err != nil {
		cmd := exec.Command(filepath.Join(repo, "scripts", "tfconfig.sh"), rc)
		b, err := cmd.CombinedOutput()
		require.NoError(t, err, "scripts/tfconfig.sh: %s", b)
	}
	env["TF_CLI_CONFIG_FILE"] = rc
	return env
}

// fixtureZips writes <folder>.zip for every function: a tiny bootstrap script.
// The emulator stores packages without running them, so the infrastructure
// tests never depend on function code. Fixed timestamps keep the hash stable.
func fixtureZips(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range folders {
		file, err := os.Create(filepath.Join(dir, f+".zip"))
		require.NoError(t, err)
		w := zip.NewWriter(file)
		h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
		h.SetMode(0o755)
		entry, err := w.CreateHeader(h)
		require.NoError(t, err)
		_, err = fmt.Fprintf(entry, "#!/bin/sh\necho fixture for %s\n", f)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		require.NoError(t, file.Close())
	}
	return dir
}

func readOutputs(t *testing.T, opts *terraform.Options) outputs {
	t.Helper()
	out, err := tfoutputs.Parse([]byte(terraform.OutputJson(t, opts, "")))
	require.NoError(t, err)
	return out
}

func checkOutputs(t *testing.T, out outputs) {
	require.Equal(t, "local", out.Environment)
	for name, v := range map[string]string{
		"audit_queue_url": out.AuditQueueURL, "audit_queue_arn": out.AuditQueueARN,
		"audit_dlq_url": out.AuditDLQURL, "audit_dlq_arn": out.AuditDLQARN, "audit_table_name": out.AuditTableName,
		"sms_queue_url": out.SMSQueueURL, "sms_queue_arn": out.SMSQueueARN, "sms_dlq_url": out.SMSDLQURL,
		"sms_dlq_arn": out.SMSDLQARN, "sms_idempotency_table_name": out.SMSIdempotencyTableName,
		"alarm_topic_arn": out.AlarmTopicARN, "notifications_topic_arn": out.NotificationsTopicARN,
	} {
		require.Contains(t, v, out.NamePrefix, "output %s", name)
	}
	want := map[string]string{}
	for _, f := range folders {
		want[f] = out.NamePrefix + "-" + f
	}
	require.Equal(t, want, out.FunctionNames)
	require.Equal(t, want, out.FunctionRoleNames)
	require.Equal(t, out.NamePrefix+"-AuditMessages", out.AuditTableName)
}

func queueAttributes(ctx context.Context, t *testing.T, c *clients, url string) map[string]string {
	t.Helper()
	got, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	require.NoError(t, err)
	return got.Attributes
}

func checkQueues(ctx context.Context, t *testing.T, c *clients, out outputs) {
	for name, q := range queues(out) {
		main := queueAttributes(ctx, t, c, q.url)
		dlq := queueAttributes(ctx, t, c, q.dlqURL)

		var redrive struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
			MaxReceiveCount     int    `json:"maxReceiveCount"`
		}
		require.NoError(t, json.Unmarshal([]byte(main["RedrivePolicy"]), &redrive), name)
		require.Equal(t, q.dlqARN, redrive.DeadLetterTargetArn, name)
		require.Equal(t, localMaxReceiveCount, redrive.MaxReceiveCount, name)
		require.Equal(t, map[string]int{"audit": 14, "sms": 35}[name], out.RetryBudgetSeconds[name], name)

		var allow struct {
			RedrivePermission string   `json:"redrivePermission"`
			SourceQueueArns   []string `json:"sourceQueueArns"`
		}
		require.NoError(t, json.Unmarshal([]byte(dlq["RedriveAllowPolicy"]), &allow), name)
		require.Equal(t, "byQueue", allow.RedrivePermission, name)
		require.Equal(t, []string{q.arn}, allow.SourceQueueArns, name)
		require.NotContains(t, dlq, "RedrivePolicy", "%s: a DLQ has no DLQ of its own", name)

		// Visibility vs the consumer's deployed timeout.
		fn, err := c.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(out.FunctionNames[consumers[name]])})
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(localVisibility), main["VisibilityTimeout"], name)
		require.GreaterOrEqual(t, atoi(t, main["VisibilityTimeout"]), 6*int(aws.ToInt32(fn.Timeout)), "%s: visibility >= 6x timeout", name)

		for kind, attrs := range map[string]map[string]string{"queue": main, "dlq": dlq} {
			require.Equal(t, "true", attrs["SqsManagedSseEnabled"], "%s %s: SSE-SQS", name, kind)
			require.NotContains(t, attrs, "KmsMasterKeyId", "%s %s", name, kind)
			require.Equal(t, "262144", attrs["MaximumMessageSize"], "%s %s", name, kind)
			require.Equal(t, "20", attrs["ReceiveMessageWaitTimeSeconds"], "%s %s", name, kind)
		}
		require.Equal(t, "345600", main["MessageRetentionPeriod"], name)
		require.Equal(t, "864000", dlq["MessageRetentionPeriod"], "%s: DLQ keeps 10 days", name)

		requireTLSOnlyPolicy(t, main["Policy"], q.arn)
		requireTLSOnlyPolicy(t, dlq["Policy"], q.dlqARN)

		tags, err := c.sqs.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(q.url)})
		require.NoError(t, err)
		require.Equal(t, "local", tags.Tags["offload:environment"], name)
	}
}

// policyDoc is a resource policy (queue, topic, function).
type policyDoc struct {
	Statement []struct {
		Sid       string          `json:"Sid"`
		Effect    string          `json:"Effect"`
		Principal json.RawMessage `json:"Principal"`
		Action    oneOrMany       `json:"Action"`
		Resource  oneOrMany       `json:"Resource"`
		Condition json.RawMessage `json:"Condition"`
	} `json:"Statement"`
}

func parseResourcePolicy(t *testing.T, doc string) policyDoc {
	t.Helper()
	if strings.HasPrefix(doc, "%") {
		decoded, err := url.QueryUnescape(doc)
		require.NoError(t, err)
		doc = decoded
	}
	var p policyDoc
	require.NoError(t, json.Unmarshal([]byte(doc), &p), doc)
	return p
}

// requireTLSOnlyPolicy: exactly one statement, denying every SQS action on
// this queue to everyone when the request is not made over TLS.
func requireTLSOnlyPolicy(t *testing.T, doc, arn string) {
	t.Helper()
	p := parseResourcePolicy(t, doc)
	require.Len(t, p.Statement, 1, doc)
	s := p.Statement[0]
	require.Equal(t, "Deny", s.Effect)
	require.JSONEq(t, `"*"`, string(s.Principal))
	require.Equal(t, oneOrMany{"sqs:*"}, s.Action)
	require.Equal(t, oneOrMany{arn}, s.Resource)
	require.JSONEq(t, `{"Bool":{"aws:SecureTransport":"false"}}`, string(s.Condition))
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	_, err := fmt.Sscan(s, &n)
	require.NoError(t, err, s)
	return n
}

func checkFunctions(ctx context.Context, t *testing.T, c *clients, out outputs) {
	common := map[string]string{"OFFLOAD_ENV": "local", "LOG_LEVEL": "debug"}
	wantEnv := map[string]map[string]string{
		"audit-receiver": {"AUDIT_TABLE_NAME": out.AuditTableName, "DLQ_URL": out.AuditDLQURL},
		"sms-sender": {
			"IDEMPOTENCY_TABLE_NAME": out.SMSIdempotencyTableName, "SMS_PROVIDER": "sns",
			"TWILIO_SECRET_ARN": out.TwilioSecretARN, "DLQ_URL": out.SMSDLQURL,
			"SMS_PROVIDER_TIMEOUT":  fmt.Sprintf("%ds", max(1, localTimeout/3)),
			"IDEMPOTENCY_RETENTION": fmt.Sprintf("%ds", localSMSRetention),
		},
		"dlq-alarm-handler": {"NOTIFICATIONS_TOPIC_ARN": out.NotificationsTopicARN, "WEBHOOK_SECRET_ARN": out.WebhookSecretARN,
			"IDEMPOTENCY_TABLE_NAME": out.AlarmDedupeTableName, "DEAD_LETTER_QUEUES": queues(out)["audit"].dlqName() + "," + queues(out)["sms"].dlqName(),
			"IDEMPOTENCY_RETENTION": fmt.Sprintf("%ds", localAlarmRetention)},
	}
	// The consumers' retry budget and the DLQ size they trim dead letters to.
	maps.Copy(wantEnv["audit-receiver"], map[string]string{"AUDIT_BACKOFF_BASE": localAuditBackoff, "AUDIT_BACKOFF_MAX": "300s", "DLQ_MAX_MESSAGE_BYTES": "262144", "MAX_RECEIVE_COUNT": "3"})
	maps.Copy(wantEnv["sms-sender"], map[string]string{"SMS_BACKOFF_BASE": localSMSBackoff, "SMS_BACKOFF_MAX": "900s", "DLQ_MAX_MESSAGE_BYTES": "262144", "MAX_RECEIVE_COUNT": "3"})
	for _, f := range folders {
		name := out.FunctionNames[f]
		got, err := c.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
		require.NoError(t, err, f)
		cfg := got.Configuration
		require.Equal(t, "provided.al2023", string(cfg.Runtime), f)
		require.Equal(t, "bootstrap", aws.ToString(cfg.Handler), f)
		require.Equal(t, []string{"arm64"}, strs(cfg.Architectures), f)
		require.Equal(t, int32(localTimeout), aws.ToInt32(cfg.Timeout), f)
		require.Equal(t, "Active", string(cfg.TracingConfig.Mode), f)
		require.NotNil(t, cfg.LoggingConfig, f)
		require.Equal(t, "JSON", string(cfg.LoggingConfig.LogFormat), f)
		require.Equal(t, "/aws/lambda/"+name, aws.ToString(cfg.LoggingConfig.LogGroup), f)
		require.Equal(t, "DEBUG", string(cfg.LoggingConfig.ApplicationLogLevel), f)
		require.Equal(t, "arn:aws:iam::"+c.account+":role/"+name, aws.ToString(cfg.Role), f)

		env := map[string]string{}
		for k, v := range common {
			env[k] = v
		}
		for k, v := range wantEnv[f] {
			env[k] = v
		}
		require.Equal(t, env, cfg.Environment.Variables, "%s: exactly the documented variables", f)
		require.Equal(t, out.TopicsKMSKeyARN, aws.ToString(cfg.KMSKeyArn), "%s: environment encrypted with the stack's key", f)

		require.Equal(t, f, got.Tags["offload:function"], f)
		require.Equal(t, "enabled", got.Tags["offload:local-runtime"], f)
		require.Equal(t, "local", got.Tags["offload:environment"], f)
	}
}

// strs converts a list of SDK enum values to strings.
func strs[T ~string](in []T) []string {
	out := make([]string, 0, len(in))
	for _, a := range in {
		out = append(out, string(a))
	}
	return out
}

func checkMappings(ctx context.Context, t *testing.T, c *clients, out outputs) {
	for name, q := range queues(out) {
		fn := out.FunctionNames[consumers[name]]
		list, err := c.lambda.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(fn)})
		require.NoError(t, err)
		require.Len(t, list.EventSourceMappings, 1, "%s: one mapping", name)
		m := list.EventSourceMappings[0]
		require.Equal(t, out.MappingUUIDs[name], aws.ToString(m.UUID), name)
		require.Equal(t, q.arn, aws.ToString(m.EventSourceArn), name)
		require.Equal(t, int32(10), aws.ToInt32(m.BatchSize), name)
		require.Equal(t, int32(0), aws.ToInt32(m.MaximumBatchingWindowInSeconds), name)
		require.Equal(t, []string{"ReportBatchItemFailures"}, strs(m.FunctionResponseTypes), name)
		require.NotNil(t, m.ScalingConfig, name)
		require.Equal(t, maximumConcurrency[name], aws.ToInt32(m.ScalingConfig.MaximumConcurrency), name)
		// Disabled in the emulator: moto's own mapping must never consume.
		require.Equal(t, "Disabled", aws.ToString(m.State), name)

		tags, err := c.lambda.ListTags(ctx, &lambda.ListTagsInput{Resource: m.EventSourceMappingArn})
		require.NoError(t, err)
		require.Equal(t, "enabled", tags.Tags["offload:local-runtime"], name)
	}
	// The DLQ alarm handler is triggered by SNS, not by a queue.
	list, err := c.lambda.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(out.FunctionNames["dlq-alarm-handler"])})
	require.NoError(t, err)
	require.Empty(t, list.EventSourceMappings)
}

func checkAlarms(ctx context.Context, t *testing.T, c *clients, out outputs) {
	for name := range queues(out) {
		queueName := out.NamePrefix + "-" + name
		got, err := c.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{
			AlarmNames: []string{out.DLQAlarmNames[name], out.AgeAlarmNames[name]},
		})
		require.NoError(t, err)
		require.Len(t, got.MetricAlarms, 2, name)
		alarms := map[string]cwtypes.MetricAlarm{}
		for _, a := range got.MetricAlarms {
			alarms[aws.ToString(a.AlarmName)] = a
		}

		dlq := alarms[out.DLQAlarmNames[name]]
		require.Equal(t, queueName+"-dlq-not-empty", aws.ToString(dlq.AlarmName))
		requireDLQAlarm(t, dlq, queueName+"-dlq", out.AlarmTopicARN)

		age := alarms[out.AgeAlarmNames[name]]
		require.Equal(t, queueName+"-oldest-message-age", aws.ToString(age.AlarmName))
		requireAlarm(t, age, "ApproximateAgeOfOldestMessage", queueName,
			cwtypes.ComparisonOperatorGreaterThanThreshold, localAgeThreshold, out.AlarmTopicARN)
	}
}

func requireAlarm(t *testing.T, a cwtypes.MetricAlarm, metric, queueName string, op cwtypes.ComparisonOperator, threshold float64, topic string) {
	t.Helper()
	name := aws.ToString(a.AlarmName)
	require.Equal(t, "AWS/SQS", aws.ToString(a.Namespace), name)
	require.Equal(t, metric, aws.ToString(a.MetricName), name)
	require.Len(t, a.Dimensions, 1, name)
	require.Equal(t, "QueueName", aws.ToString(a.Dimensions[0].Name), name)
	require.Equal(t, queueName, aws.ToString(a.Dimensions[0].Value), name)
	require.Equal(t, cwtypes.StatisticMaximum, a.Statistic, name)
	require.Equal(t, int32(localAlarmPeriod), aws.ToInt32(a.Period), name)
	require.Equal(t, int32(1), aws.ToInt32(a.EvaluationPeriods), name)
	require.Equal(t, op, a.ComparisonOperator, name)
	require.Equal(t, threshold, aws.ToFloat64(a.Threshold), name)
	require.Equal(t, "notBreaching", aws.ToString(a.TreatMissingData), name)
	require.Equal(t, []string{topic}, a.AlarmActions, name)
	require.Equal(t, []string{topic}, a.OKActions, name)
}

// requireDLQAlarm: the DLQ alarm counts visible + in-flight messages (metric
// math), so the alarm handler's sampling (which hides what it reads) cannot
// turn it OK while messages are dead-lettered.
func requireDLQAlarm(t *testing.T, a cwtypes.MetricAlarm, queueName, topic string) {
	t.Helper()
	name := aws.ToString(a.AlarmName)
	require.Empty(t, aws.ToString(a.MetricName), name)
	require.Len(t, a.Metrics, 3, name)
	stats := map[string]string{}
	for _, q := range a.Metrics {
		if q.Expression != nil {
			require.Equal(t, "messages", aws.ToString(q.Id), name)
			require.Equal(t, "visible + in_flight", aws.ToString(q.Expression), name)
			require.True(t, aws.ToBool(q.ReturnData), name)
			continue
		}
		require.NotNil(t, q.MetricStat, name)
		m := q.MetricStat.Metric
		require.Equal(t, "AWS/SQS", aws.ToString(m.Namespace), name)
		require.Len(t, m.Dimensions, 1, name)
		require.Equal(t, "QueueName", aws.ToString(m.Dimensions[0].Name), name)
		require.Equal(t, queueName, aws.ToString(m.Dimensions[0].Value), name)
		require.Equal(t, "Maximum", aws.ToString(q.MetricStat.Stat), name)
		require.Equal(t, int32(localAlarmPeriod), aws.ToInt32(q.MetricStat.Period), name)
		stats[aws.ToString(q.Id)] = aws.ToString(m.MetricName)
	}
	require.Equal(t, map[string]string{"visible": "ApproximateNumberOfMessagesVisible", "in_flight": "ApproximateNumberOfMessagesNotVisible"}, stats, name)
	require.Equal(t, int32(1), aws.ToInt32(a.EvaluationPeriods), name)
	require.Equal(t, cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, a.ComparisonOperator, name)
	require.Equal(t, 1.0, aws.ToFloat64(a.Threshold), name)
	require.Equal(t, "notBreaching", aws.ToString(a.TreatMissingData), name)
	require.Equal(t, []string{topic}, a.AlarmActions, name)
	require.Equal(t, []string{topic}, a.OKActions, name)
}

func checkTopics(ctx context.Context, t *testing.T, c *clients, out outputs) {
	for _, topic := range []string{out.AlarmTopicARN, out.NotificationsTopicARN} {
		attrs, err := c.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(topic)})
		require.NoError(t, err)
		require.Equal(t, out.TopicsKMSKeyARN, attrs.Attributes["KmsMasterKeyId"], topic)

		p := parseResourcePolicy(t, attrs.Attributes["Policy"])
		bySid := map[string]int{}
		for i, s := range p.Statement {
			bySid[s.Sid] = i
			require.Equal(t, oneOrMany{"sns:Publish"}, s.Action, topic)
			require.Equal(t, oneOrMany{topic}, s.Resource, topic)
		}
		deny := p.Statement[bySid["DenyInsecureTransport"]]
		require.Equal(t, "Deny", deny.Effect, topic)
		require.JSONEq(t, `{"Bool":{"aws:SecureTransport":"false"}}`, string(deny.Condition), topic)
		if topic == out.AlarmTopicARN {
			require.Len(t, p.Statement, 2, topic)
			allow := p.Statement[bySid["AllowServicePublish"]]
			require.Equal(t, "Allow", allow.Effect)
			require.JSONEq(t, `{"Service":"cloudwatch.amazonaws.com"}`, string(allow.Principal))
			require.JSONEq(t, `{"StringEquals":{"aws:SourceAccount":"`+c.account+`"}}`, string(allow.Condition))
		} else {
			require.Len(t, p.Statement, 1, "%s: nobody but roles of the account publishes", topic)
		}
	}

	// The handler is the alarm topic's only subscriber; nobody subscribes to
	// the notifications topic locally (no emails).
	subs, err := c.sns.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(out.AlarmTopicARN)})
	require.NoError(t, err)
	require.Len(t, subs.Subscriptions, 1)
	require.Equal(t, "lambda", aws.ToString(subs.Subscriptions[0].Protocol))
	require.Equal(t, out.FunctionARNs["dlq-alarm-handler"], aws.ToString(subs.Subscriptions[0].Endpoint))
	subs, err = c.sns.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(out.NotificationsTopicARN)})
	require.NoError(t, err)
	require.Empty(t, subs.Subscriptions)

	// SNS may invoke the handler, for this topic only.
	policy, err := c.lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(out.FunctionNames["dlq-alarm-handler"])})
	require.NoError(t, err)
	p := parseResourcePolicy(t, aws.ToString(policy.Policy))
	require.Len(t, p.Statement, 1)
	s := p.Statement[0]
	require.Equal(t, "Allow", s.Effect)
	require.JSONEq(t, `{"Service":"sns.amazonaws.com"}`, string(s.Principal))
	require.Equal(t, oneOrMany{"lambda:InvokeFunction"}, s.Action)
	require.Equal(t, oneOrMany{out.FunctionARNs["dlq-alarm-handler"]}, s.Resource)
	require.JSONEq(t, `{"ArnLike":{"AWS:SourceArn":"`+out.AlarmTopicARN+`"}}`, string(s.Condition))
	for _, f := range []string{"audit-receiver", "sms-sender"} {
		_, err := c.lambda.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(out.FunctionNames[f])})
		require.Error(t, err, "%s: no resource policy, nothing may invoke it", f)
	}
}

func checkTables(ctx context.Context, t *testing.T, c *clients, out outputs) {
	for table, keys := range map[string][]ddbtypes.KeySchemaElement{
		out.AuditTableName: {
			{AttributeName: aws.String("messageId"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("auditTime"), KeyType: ddbtypes.KeyTypeRange},
		},
		out.SMSIdempotencyTableName: {
			{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash},
		},
	} {
		got, err := c.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		require.NoError(t, err)
		d := got.Table
		require.Equal(t, keys, d.KeySchema, table)
		for _, a := range d.AttributeDefinitions {
			require.Equal(t, ddbtypes.ScalarAttributeTypeS, a.AttributeType, table)
		}
		require.Len(t, d.AttributeDefinitions, len(keys), table)
		require.Equal(t, ddbtypes.BillingModePayPerRequest, d.BillingModeSummary.BillingMode, table)
		require.NotNil(t, d.SSEDescription, table)
		require.Equal(t, ddbtypes.SSEStatusEnabled, d.SSEDescription.Status, table)
		require.False(t, aws.ToBool(d.DeletionProtectionEnabled), "%s: off in the emulator so destroy works", table)

		backups, err := c.ddb.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(table)})
		require.NoError(t, err)
		require.Equal(t, ddbtypes.PointInTimeRecoveryStatusEnabled,
			backups.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus, table)
	}
	ttl, err := c.ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(out.SMSIdempotencyTableName)})
	require.NoError(t, err)
	require.Equal(t, ddbtypes.TimeToLiveStatusEnabled, ttl.TimeToLiveDescription.TimeToLiveStatus)
	require.Equal(t, "expires_at", aws.ToString(ttl.TimeToLiveDescription.AttributeName), "pkg/idempotency's default")
}

func checkSecrets(ctx context.Context, t *testing.T, c *clients, out outputs) {
	for _, arn := range []string{out.TwilioSecretARN, out.WebhookSecretARN} {
		d, err := c.secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(aws.ToString(d.Name), out.NamePrefix+"/"), arn)
		require.Empty(t, d.VersionIdsToStages, "%s: Terraform creates no value", arn)
		_, err = c.secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
		require.Error(t, err, "%s has no value", arn)
	}
}

func checkLogGroups(ctx context.Context, t *testing.T, c *clients, out outputs) {
	got, err := c.logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/" + out.NamePrefix + "-")})
	require.NoError(t, err)
	var names []string
	for _, g := range got.LogGroups {
		names = append(names, aws.ToString(g.LogGroupName))
		require.Equal(t, int32(localLogRetention), aws.ToInt32(g.RetentionInDays), aws.ToString(g.LogGroupName))
	}
	var want []string
	for _, f := range folders {
		want = append(want, "/aws/lambda/"+out.FunctionNames[f])
	}
	require.ElementsMatch(t, want, names)
}

func checkDashboard(ctx context.Context, t *testing.T, c *clients, out outputs) {
	got, err := c.cw.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String(out.DashboardName)})
	require.NoError(t, err)
	var body struct {
		Widgets []struct {
			Properties struct {
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(got.DashboardBody)), &body))
	seen := map[string]bool{} // "namespace metric dimension-value"
	for _, w := range body.Widgets {
		for _, m := range w.Properties.Metrics {
			require.GreaterOrEqual(t, len(m), 4)
			seen[fmt.Sprintf("%v %v %v", m[0], m[1], m[3])] = true
		}
	}
	for name := range queues(out) {
		q := out.NamePrefix + "-" + name
		for _, want := range []string{
			"AWS/SQS ApproximateNumberOfMessagesVisible " + q,
			"AWS/SQS ApproximateAgeOfOldestMessage " + q,
			"AWS/SQS ApproximateNumberOfMessagesVisible " + q + "-dlq",
		} {
			require.True(t, seen[want], want)
		}
	}
	for _, f := range folders {
		for _, metric := range []string{"Errors", "Throttles", "Duration", "Invocations"} {
			want := "AWS/Lambda " + metric + " " + out.FunctionNames[f]
			require.True(t, seen[want], want)
		}
	}
}

// expectedGrants is every role's exact allow-list, from the deployed ARNs.
func expectedGrants(ctx context.Context, t *testing.T, c *clients, out outputs) map[string][]Grant {
	t.Helper()
	tableARN := func(name string) string {
		d, err := c.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		require.NoError(t, err)
		return aws.ToString(d.Table.TableArn)
	}
	logs := func(f string) []Grant {
		group := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/aws/lambda/%s:*", c.region, c.account, out.FunctionNames[f])
		return Allows([]string{"logs:CreateLogStream", "logs:PutLogEvents"}, group)
	}
	base := func(f string) []Grant {
		g := append(logs(f), Allows([]string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, "*")...)
		// The environment is encrypted with the stack's key.
		return append(g, Allow("kms:Decrypt", out.TopicsKMSKeyARN))
	}
	trigger := func(q queue) []Grant {
		g := Allows([]string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl"}, q.arn)
		return append(g, Allow("sqs:SendMessage", q.dlqARN))
	}
	qs := queues(out)
	return map[string][]Grant{
		"audit-receiver": slices.Concat(base("audit-receiver"), trigger(qs["audit"]),
			Allows([]string{"dynamodb:GetItem", "dynamodb:PutItem"}, tableARN(out.AuditTableName))),
		"sms-sender": slices.Concat(base("sms-sender"), trigger(qs["sms"]),
			Allows([]string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}, tableARN(out.SMSIdempotencyTableName)),
			[]Grant{Allow("sns:Publish", "*"), Deny("sns:Publish", "arn:aws:sns:*:*:*")}),
		"dlq-alarm-handler": slices.Concat(base("dlq-alarm-handler"),
			Allows([]string{"sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility"}, qs["audit"].dlqARN, qs["sms"].dlqARN),
			Allows([]string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}, tableARN(out.AlarmDedupeTableName)),
			[]Grant{
				Allow("sns:Publish", out.NotificationsTopicARN),
				Allow("sqs:SendMessage", out.FailuresQueueARN),
				Allow("kms:GenerateDataKey", out.TopicsKMSKeyARN),
				Allow("kms:Decrypt", out.TopicsKMSKeyARN),
				Allow("secretsmanager:GetSecretValue", out.WebhookSecretARN),
			}),
	}
}

func checkIAM(ctx context.Context, t *testing.T, c *clients, out outputs) {
	want := expectedGrants(ctx, t, c, out)
	for _, f := range folders {
		role := out.FunctionRoleNames[f]
		got, err := RoleGrants(ctx, c.iam, role)
		require.NoError(t, err, f)
		require.Empty(t, DiffGrants(got, want[f]), "%s: role %s must hold exactly its allow-list", f, role)
		require.Empty(t, WildcardViolations(got, allowedStar), f)

		r, err := c.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
		require.NoError(t, err)
		require.Nil(t, r.Role.PermissionsBoundary, "%s: the emulator has no boundary policy (permissions_boundary_name is null)", f)
		trust := parseResourcePolicy(t, aws.ToString(r.Role.AssumeRolePolicyDocument))
		require.Len(t, trust.Statement, 1, f)
		require.Equal(t, "Allow", trust.Statement[0].Effect, f)
		require.Equal(t, oneOrMany{"sts:AssumeRole"}, trust.Statement[0].Action, f)
		require.JSONEq(t, `{"Service":"lambda.amazonaws.com"}`, string(trust.Statement[0].Principal), f)
	}
}

// checkIAMCatchesWidening widens a deployed role for a moment and requires the
// same check to report it: the IAM assertion above can fail.
func checkIAMCatchesWidening(ctx context.Context, t *testing.T, c *clients, out outputs) {
	role := out.FunctionRoleNames["audit-receiver"]
	table := "arn:aws:dynamodb:" + c.region + ":" + c.account + ":table/*"
	_, err := c.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName:       aws.String(role),
		PolicyName:     aws.String("widened-by-test"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:PutItem","dynamodb:Scan"],"Resource":"` + table + `"},{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`),
	})
	require.NoError(t, err)
	defer func() {
		_, err := c.iam.DeleteRolePolicy(context.Background(), &iam.DeleteRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("widened-by-test")})
		require.NoError(t, err)
	}()

	got, err := RoleGrants(ctx, c.iam, role)
	require.NoError(t, err)
	require.Equal(t, []string{
		"unexpected: Allow dynamodb:PutItem on " + table,
		"unexpected: Allow dynamodb:Scan on " + table,
		"unexpected: Allow s3:GetObject on *",
	}, DiffGrants(got, expectedGrants(ctx, t, c, out)["audit-receiver"]))
	require.Equal(t, []string{`resource "*" not allowed for this action: Allow s3:GetObject on *`}, WildcardViolations(got, allowedStar))
}

func checkNothingLeft(ctx context.Context, t *testing.T, c *clients, out outputs) {
	p := out.NamePrefix

	queues, err := c.sqs.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String(p + "-")})
	require.NoError(t, err)
	require.Empty(t, queues.QueueUrls, "queues")

	prefixed := func(kind string, name *string, prefix string) (string, bool) {
		return kind + " " + aws.ToString(name), strings.HasPrefix(aws.ToString(name), prefix)
	}
	var left []string
	left = append(left, leftInPages(ctx, t, lambda.NewListFunctionsPaginator(c.lambda, &lambda.ListFunctionsInput{}),
		func(o *lambda.ListFunctionsOutput) []lambdatypes.FunctionConfiguration { return o.Functions },
		func(f lambdatypes.FunctionConfiguration) (string, bool) {
			return prefixed("function", f.FunctionName, p+"-")
		})...)
	left = append(left, leftInPages(ctx, t, lambda.NewListEventSourceMappingsPaginator(c.lambda, &lambda.ListEventSourceMappingsInput{}),
		func(o *lambda.ListEventSourceMappingsOutput) []lambdatypes.EventSourceMappingConfiguration {
			return o.EventSourceMappings
		},
		func(m lambdatypes.EventSourceMappingConfiguration) (string, bool) {
			return "event source mapping " + aws.ToString(m.UUID), strings.Contains(aws.ToString(m.EventSourceArn), ":"+p+"-")
		})...)
	left = append(left, leftInPages(ctx, t, dynamodb.NewListTablesPaginator(c.ddb, &dynamodb.ListTablesInput{}),
		func(o *dynamodb.ListTablesOutput) []string { return o.TableNames },
		func(name string) (string, bool) { return prefixed("table", &name, p+"-") })...)
	left = append(left, leftInPages(ctx, t, iam.NewListRolesPaginator(c.iam, &iam.ListRolesInput{}),
		func(o *iam.ListRolesOutput) []iamtypes.Role { return o.Roles },
		func(r iamtypes.Role) (string, bool) { return prefixed("role", r.RoleName, p+"-") })...)
	left = append(left, leftInPages(ctx, t, sns.NewListTopicsPaginator(c.sns, &sns.ListTopicsInput{}),
		func(o *sns.ListTopicsOutput) []snstypes.Topic { return o.Topics },
		func(tp snstypes.Topic) (string, bool) {
			return "topic " + aws.ToString(tp.TopicArn), strings.Contains(aws.ToString(tp.TopicArn), ":"+p+"-")
		})...)
	left = append(left, leftInPages(ctx, t, secretsmanager.NewListSecretsPaginator(c.secrets, &secretsmanager.ListSecretsInput{}),
		func(o *secretsmanager.ListSecretsOutput) []smtypes.SecretListEntry { return o.SecretList },
		func(sec smtypes.SecretListEntry) (string, bool) { return prefixed("secret", sec.Name, p+"/") })...)
	alarms, err := c.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(p + "-")})
	require.NoError(t, err)
	for _, a := range alarms.MetricAlarms {
		left = append(left, "alarm "+aws.ToString(a.AlarmName))
	}
	dashboards, err := c.cw.ListDashboards(ctx, &cloudwatch.ListDashboardsInput{DashboardNamePrefix: aws.String(p)})
	require.NoError(t, err)
	for _, d := range dashboards.DashboardEntries {
		left = append(left, "dashboard "+aws.ToString(d.DashboardName))
	}
	groups, err := c.logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/" + p + "-")})
	require.NoError(t, err)
	for _, g := range groups.LogGroups {
		left = append(left, "log group "+aws.ToString(g.LogGroupName))
	}
	left = append(left, leftInPages(ctx, t, kms.NewListAliasesPaginator(c.kms, &kms.ListAliasesInput{}),
		func(o *kms.ListAliasesOutput) []kmstypes.AliasListEntry { return o.Aliases },
		func(a kmstypes.AliasListEntry) (string, bool) {
			return prefixed("KMS alias", a.AliasName, "alias/"+p+"-")
		})...)
	require.Empty(t, left)

	// A KMS key cannot be deleted at once: it waits out its deletion window.
	key, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(out.TopicsKMSKeyARN)})
	require.NoError(t, err)
	require.Equal(t, "PendingDeletion", string(key.KeyMetadata.KeyState))
}

// pager is what the SDK's generated list paginators have in common.
type pager[O, F any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*F)) (O, error)
}

// leftInPages reads every page of p and returns the description of each of
// a page's items that left (item) says is the stack's.
func leftInPages[O, F, I any](ctx context.Context, t *testing.T, p pager[O, F], items func(O) []I, left func(I) (string, bool)) []string {
	t.Helper()
	var found []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		for _, it := range items(page) {
			if what, ours := left(it); ours {
				found = append(found, what)
			}
		}
	}
	return found
}

// checkAlarmHandlerFailures: the handler's asynchronous invocations end in a
// KMS-encrypted, TLS-only queue, whose alarm mails the alarm e-mail
// subscribers through a topic the handler does not subscribe to.
func checkAlarmHandlerFailures(ctx context.Context, t *testing.T, c *clients, out outputs) {
	require.Equal(t, localSMSRetention, out.SMSRetentionSeconds)
	require.Equal(t, localAlarmRetention, out.AlarmRetentionSeconds)

	name := out.NamePrefix + "-dlq-alarm-handler-failures"
	require.Equal(t, "arn:aws:sqs:"+c.region+":"+c.account+":"+name, out.FailuresQueueARN)
	attrs := queueAttributes(ctx, t, c, out.FailuresQueueURL)
	require.Equal(t, out.TopicsKMSKeyARN, attrs["KmsMasterKeyId"])
	require.Equal(t, "1209600", attrs["MessageRetentionPeriod"], "14 days to read a lost notification")
	require.NotContains(t, attrs, "RedrivePolicy")
	requireTLSOnlyPolicy(t, attrs["Policy"], out.FailuresQueueARN)

	cfg, err := c.lambda.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(out.FunctionNames["dlq-alarm-handler"])})
	require.NoError(t, err)
	require.Equal(t, int32(2), aws.ToInt32(cfg.MaximumRetryAttempts))
	require.Equal(t, int32(21600), aws.ToInt32(cfg.MaximumEventAgeInSeconds))
	require.NotNil(t, cfg.DestinationConfig)
	require.NotNil(t, cfg.DestinationConfig.OnFailure)
	require.Equal(t, out.FailuresQueueARN, aws.ToString(cfg.DestinationConfig.OnFailure.Destination))
	for _, f := range []string{"audit-receiver", "sms-sender"} {
		_, err := c.lambda.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(out.FunctionNames[f])})
		require.Error(t, err, "%s is invoked by its queue only", f)
	}

	got, err := c.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{out.FailuresAlarmName}})
	require.NoError(t, err)
	require.Len(t, got.MetricAlarms, 1)
	a := got.MetricAlarms[0]
	require.Equal(t, name+"-not-empty", aws.ToString(a.AlarmName))
	// Not the alarm topic: that one invokes the handler whose failure this is.
	require.NotEqual(t, out.AlarmTopicARN, out.AlarmEmailTopicARN)
	requireAlarm(t, a, "ApproximateNumberOfMessagesVisible", name, cwtypes.ComparisonOperatorGreaterThanThreshold, 0, out.AlarmEmailTopicARN)

	attrsTopic, err := c.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(out.AlarmEmailTopicARN)})
	require.NoError(t, err)
	require.Equal(t, out.TopicsKMSKeyARN, attrsTopic.Attributes["KmsMasterKeyId"])
	p := parseResourcePolicy(t, attrsTopic.Attributes["Policy"])
	require.Len(t, p.Statement, 2, "CloudWatch publishes, and TLS only")
	// No e-mail locally, and never a function: nothing can loop back into the handler.
	subs, err := c.sns.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(out.AlarmEmailTopicARN)})
	require.NoError(t, err)
	require.Empty(t, subs.Subscriptions)
}
