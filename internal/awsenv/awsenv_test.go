package awsenv

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadReadsLambdaEnvironment(t *testing.T) {
	t.Parallel()
	cfg, err := Load(env(map[string]string{
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
	cfg, err := Load(env(map[string]string{"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET"}))
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
	_, err := Load(env(map[string]string{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET"}))
	require.ErrorContains(t, err, "AWS_REGION")
	_, err = Load(env(map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID"}))
	require.ErrorContains(t, err, "AWS_SECRET_ACCESS_KEY")
}
