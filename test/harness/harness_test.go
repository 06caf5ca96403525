package harness

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const sampleOutputs = `{
  "name_prefix": {"sensitive": false, "type": "string", "value": "offload-dev"},
  "environment": {"sensitive": false, "type": "string", "value": "dev"},
  "audit_queue_url": {"sensitive": false, "type": "string", "value": "https://sqs.eu-west-1.amazonaws.com/1/offload-dev-audit"},
  "audit_dlq_url": {"sensitive": false, "type": "string", "value": "https://sqs.eu-west-1.amazonaws.com/1/offload-dev-audit-dlq"},
  "audit_table_name": {"sensitive": false, "type": "string", "value": "offload-dev-AuditMessages"},
  "sms_queue_url": {"sensitive": false, "type": "string", "value": "https://sqs.eu-west-1.amazonaws.com/1/offload-dev-sms"},
  "sms_dlq_url": {"sensitive": false, "type": "string", "value": "https://sqs.eu-west-1.amazonaws.com/1/offload-dev-sms-dlq"},
  "alarm_topic_arn": {"sensitive": false, "type": "string", "value": "arn:aws:sns:eu-west-1:1:offload-dev-alarms"},
  "notifications_topic_arn": {"sensitive": false, "type": "string", "value": "arn:aws:sns:eu-west-1:1:offload-dev-notifications"},
  "function_names": {"sensitive": false, "type": ["map", "string"], "value": {"audit-receiver": "offload-dev-audit-receiver"}},
  "dashboard_name": {"sensitive": false, "type": "string", "value": "offload-dev"}
}`

func TestParseOutputsReadsTerraformOutputJSON(t *testing.T) {
	t.Parallel()
	o, err := ParseOutputs([]byte(sampleOutputs))
	require.NoError(t, err)
	require.Equal(t, "offload-dev", o.NamePrefix)
	require.Equal(t, "offload-dev-AuditMessages", o.AuditTableName)
	require.Equal(t, map[string]string{"audit-receiver": "offload-dev-audit-receiver"}, o.FunctionNames)
	require.JSONEq(t, `"offload-dev"`, string(o.Raw["dashboard_name"]))
	require.NoError(t, validateOutputs(o))

	o.AuditQueueURL, o.AlarmTopicARN = "", ""
	require.EqualError(t, validateOutputs(o), "outputs lack [alarm_topic_arn audit_queue_url]")

	_, err = ParseOutputs([]byte(`not json`))
	require.Error(t, err)
}

func TestAWSTargetReadsTheOutputsFileAndNamespacesTestData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outputs.json")
	require.NoError(t, os.WriteFile(path, []byte(sampleOutputs), 0o600))
	t.Setenv("OFFLOAD_TEST_TARGET", "aws")
	t.Setenv("OFFLOAD_OUTPUTS_FILE", path)
	t.Setenv("AWS_REGION", "eu-west-1")

	s := newStack(&mainT{name: t.Name()}, Options{})
	require.NoError(t, s.up())
	require.Equal(t, TargetAWS, s.Target)
	require.Equal(t, "offload-dev-audit", s.Outputs.AuditQueueURL[len(s.Outputs.AuditQueueURL)-17:])
	require.Regexp(t, `^offload-dev-e2e-[a-z0-9]{6}$`, s.Prefix, "under the environment's prefix: the deploy role creates nothing else")
	require.Nil(t, s.Runtime, "no local runtime against AWS")
	require.Regexp(t, `^offload-dev-e2e-[a-z0-9]{6}-notify-1$`, s.Unique("notify"))

	ran := 0
	s.Cleanup(func() error { ran++; return nil })
	s.Cleanup(func() error { ran *= 10; return errors.New("boom") })
	require.ErrorContains(t, s.Down(), "boom")
	require.Equal(t, 1, ran, "cleanups run last-registered first, once")
	require.ErrorContains(t, s.Down(), "boom", "Down is idempotent")
	require.Equal(t, 1, ran)
}

func TestTargetsRefuseToStartWithoutTheirConfiguration(t *testing.T) {
	t.Setenv("OFFLOAD_TEST_TARGET", "aws")
	t.Setenv("OFFLOAD_OUTPUTS_FILE", "")
	t.Setenv("AWS_REGION", "eu-west-1")
	require.ErrorContains(t, newStack(&mainT{}, Options{}).up(), "OFFLOAD_OUTPUTS_FILE")

	t.Setenv("OFFLOAD_TEST_TARGET", "local")
	t.Setenv("AWS_ENDPOINT_URL", "")
	require.ErrorContains(t, newStack(&mainT{}, Options{}).up(), "AWS_ENDPOINT_URL")

	t.Setenv("OFFLOAD_TEST_TARGET", "staging")
	require.ErrorContains(t, newStack(&mainT{}, Options{}).up(), `OFFLOAD_TEST_TARGET="staging"`)
}

func TestCopyTreeLeavesOutStateAndProviderCaches(t *testing.T) {
	t.Parallel()
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "copy")
	for path, body := range map[string]string{
		"environments/local/main.tf":                "x",
		"environments/local/terraform.tfstate":      "state",
		"environments/local/.terraform/plugin/file": "cache",
		"stack/main.tf":                             "y",
	} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(src, path)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(src, path), []byte(body), 0o644))
	}
	require.NoError(t, copyTree(src, dst))
	require.FileExists(t, filepath.Join(dst, "environments/local/main.tf"))
	require.FileExists(t, filepath.Join(dst, "stack/main.tf"))
	require.NoFileExists(t, filepath.Join(dst, "environments/local/terraform.tfstate"))
	require.NoDirExists(t, filepath.Join(dst, "environments/local/.terraform"))
}

func TestWaitForStopsWhenDoneOrAfterTheTimeout(t *testing.T) {
	t.Parallel()
	n := 0
	require.NoError(t, waitFor(context.Background(), time.Second, func() (bool, error) { n++; return n == 3, nil }))
	require.Equal(t, 3, n)
	start := time.Now()
	err := waitFor(context.Background(), 300*time.Millisecond, func() (bool, error) { return false, errors.New("still 404") })
	require.ErrorContains(t, err, "still 404")
	require.Less(t, time.Since(start), 2*time.Second)
}
