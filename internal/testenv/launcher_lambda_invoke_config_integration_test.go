//go:build integration

package testenv_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
)

// moto drops a function's KMSKeyArn (the key encrypting its environment), so
// Terraform plans an update of every function with an encrypted environment
// on every run. The launcher stores it; "" removes it, as in AWS.
func TestLauncherStoresLambdaKMSKeyArn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := testenv.AWSConfig(t)
	name := testenv.UniqueName("launcher-kms")
	key := "arn:aws:kms:" + cfg.Region + ":123456789012:key/0e6f5c59-0000-4000-8000-000000000001"

	client := lambda.NewFromConfig(cfg)
	createFunction(t, cfg, name, func(in *lambda.CreateFunctionInput) {
		in.KMSKeyArn = aws.String(key)
		in.Environment = &lambdatypes.Environment{Variables: map[string]string{"A": "b"}}
	})

	got, err := client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
	require.NoError(t, err)
	require.Equal(t, key, aws.ToString(got.KMSKeyArn))

	_, err = client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name), KMSKeyArn: aws.String("")})
	require.NoError(t, err)
	got, err = client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
	require.NoError(t, err)
	require.Nil(t, got.KMSKeyArn, "an empty key is Lambda's own key again")
}

// moto appends every PutFunctionEventInvokeConfig and keeps answering with
// the first, so a changed retry count or on-failure destination never shows.
// The launcher replaces it, as AWS does.
func TestLauncherReplacesEventInvokeConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := testenv.AWSConfig(t)
	name := testenv.UniqueName("launcher-invoke-config")

	client := lambda.NewFromConfig(cfg)
	createFunction(t, cfg, name, nil)

	dest := "arn:aws:sqs:" + cfg.Region + ":123456789012:" + name + "-failures"
	for _, retries := range []int32{0, 2} {
		_, err := client.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{
			FunctionName:             aws.String(name),
			MaximumRetryAttempts:     aws.Int32(retries),
			MaximumEventAgeInSeconds: aws.Int32(21600),
			DestinationConfig:        &lambdatypes.DestinationConfig{OnFailure: &lambdatypes.OnFailure{Destination: aws.String(dest)}},
		})
		require.NoError(t, err)
	}
	got, err := client.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String(name)})
	require.NoError(t, err)
	require.Equal(t, int32(2), aws.ToInt32(got.MaximumRetryAttempts), "the last put wins")
	require.Equal(t, dest, aws.ToString(got.DestinationConfig.OnFailure.Destination))

	list, err := client.ListFunctionEventInvokeConfigs(ctx, &lambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String(name)})
	require.NoError(t, err)
	require.Len(t, list.FunctionEventInvokeConfigs, 1)
}
