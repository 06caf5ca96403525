package awsenv_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/awsenv"
	"github.com/offload/offload/internal/testenv"
)

func TestLoadReadsLambdaEnvironment(t *testing.T) {
	t.Parallel()
	cfg, err := awsenv.Load(testenv.Getenv(map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_SESSION_TOKEN": "TOKEN",
		"AWS_ENDPOINT_URL": "http://emulator:4566",
	}))
	require.NoError(t, err)
	require.Equal(t, "eu-west-1", cfg.Region)
	require.NotNil(t, cfg.BaseEndpoint)
	require.Equal(t, "http://emulator:4566", *cfg.BaseEndpoint)
	creds, err := cfg.Credentials.Retrieve(context.Background())
	require.NoError(t, err)
	require.Equal(t, "AKID", creds.AccessKeyID)
	require.Equal(t, "SECRET", creds.SecretAccessKey)
	require.Equal(t, "TOKEN", creds.SessionToken)
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := awsenv.Load(testenv.Getenv(map[string]string{"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET"}))
	require.NoError(t, err)
	require.Equal(t, "us-east-1", cfg.Region)
	require.Nil(t, cfg.BaseEndpoint, "no AWS_ENDPOINT_URL: the SDK resolves AWS's endpoints")
	require.Nil(t, cfg.Retryer, "the clients' standard retryer")
	creds, err := cfg.Credentials.Retrieve(context.Background())
	require.NoError(t, err)
	require.Empty(t, creds.SessionToken)
}

func TestLoadRequiresRegionAndCredentials(t *testing.T) {
	t.Parallel()
	_, err := awsenv.Load(testenv.Getenv(map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET"}))
	require.ErrorContains(t, err, "AWS_REGION")
	_, err = awsenv.Load(testenv.Getenv(map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID"}))
	require.ErrorContains(t, err, "AWS_SECRET_ACCESS_KEY")
}

// The SDK's per-service variables (AWS_ENDPOINT_URL_<SERVICE>) win over
// AWS_ENDPOINT_URL for their service, as with config.LoadDefaultConfig;
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true ignores both. The clients check
// the process environment for the variables' presence, so this test sets
// them there (not parallel).
func TestLoadHonoursPerServiceEndpoints(t *testing.T) {
	vars := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET",
		"AWS_ENDPOINT_URL": "http://emulator:4566", "AWS_ENDPOINT_URL_SQS": "http://sqs-only:9324",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://secrets:8000",
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
	cfg, err := awsenv.Load(testenv.Getenv(vars))
	require.NoError(t, err)
	require.Equal(t, "http://sqs-only:9324", aws.ToString(sqs.NewFromConfig(cfg).Options().BaseEndpoint))
	require.Equal(t, "http://secrets:8000", aws.ToString(secretsmanager.NewFromConfig(cfg).Options().BaseEndpoint), "service ids with spaces: SECRETS_MANAGER")
	require.Equal(t, "http://emulator:4566", aws.ToString(dynamodb.NewFromConfig(cfg).Options().BaseEndpoint), "the rest: AWS_ENDPOINT_URL")

	vars["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
	cfg, err = awsenv.Load(testenv.Getenv(vars))
	require.NoError(t, err)
	require.Nil(t, cfg.BaseEndpoint)
	require.Nil(t, sqs.NewFromConfig(cfg).Options().BaseEndpoint, "ignored: AWS's own endpoints")
}
