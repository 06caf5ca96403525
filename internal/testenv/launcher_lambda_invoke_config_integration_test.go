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
	key := "arn:aws:kms:" + testenv.AWSConfig(t).Region + ":123456789012:key/0e6f5c59-0000-4000-8000-000000000001"
	f := newFunction(t, "launcher-kms", func(in *lambda.CreateFunctionInput) {
		in.KMSKeyArn = aws.String(key)
		in.Environment = &lambdatypes.Environment{Variables: map[string]string{"A": "b"}}
	})
	require.Equal(t, key, aws.ToString(f.configuration(t).KMSKeyArn))

	f.update(t, &lambda.UpdateFunctionConfigurationInput{KMSKeyArn: aws.String("")})
	require.Nil(t, f.configuration(t).KMSKeyArn, "an empty key is Lambda's own key again")
}

// moto appends every PutFunctionEventInvokeConfig and keeps answering with
// the first, so a changed retry count or on-failure destination never shows.
// The launcher replaces it, as AWS does.
func TestLauncherReplacesEventInvokeConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFunction(t, "launcher-invoke-config", nil)
	client, name := f.client, f.name
	dest := "arn:aws:sqs:" + f.region + ":123456789012:" + name + "-failures"
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
