//go:build integration

package testenv_test

import (
	"archive/zip"
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
)

// moto drops a function's LoggingConfig, so Terraform plans an in-place update
// of every function with JSON logs on every run. The launcher stores it and
// fills in what AWS fills in; this test pins that.
func TestLauncherStoresLambdaLoggingConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := testenv.AWSConfig(t)
	name := testenv.UniqueName("launcher-logs")

	client := lambda.NewFromConfig(cfg)
	created := createFunction(t, cfg, name, func(in *lambda.CreateFunctionInput) {
		in.Architectures = []lambdatypes.Architecture{lambdatypes.ArchitectureArm64}
		in.LoggingConfig = &lambdatypes.LoggingConfig{
			LogFormat:           lambdatypes.LogFormatJson,
			LogGroup:            aws.String("/aws/lambda/" + name),
			ApplicationLogLevel: lambdatypes.ApplicationLogLevelDebug,
		}
	})
	require.NotNil(t, created.LoggingConfig)

	got, err := client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
	require.NoError(t, err)
	require.Equal(t, &lambdatypes.LoggingConfig{
		LogFormat:           lambdatypes.LogFormatJson,
		LogGroup:            aws.String("/aws/lambda/" + name),
		ApplicationLogLevel: lambdatypes.ApplicationLogLevelDebug,
		SystemLogLevel:      lambdatypes.SystemLogLevelInfo, // AWS's default with JSON logs
	}, got.LoggingConfig)

	// An update changes what it names and keeps the rest; Text drops the levels.
	_, err = client.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName:  aws.String(name),
		LoggingConfig: &lambdatypes.LoggingConfig{LogFormat: lambdatypes.LogFormatText},
	})
	require.NoError(t, err)
	got, err = client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
	require.NoError(t, err)
	require.Equal(t, &lambdatypes.LoggingConfig{
		LogFormat: lambdatypes.LogFormatText,
		LogGroup:  aws.String("/aws/lambda/" + name),
	}, got.LoggingConfig)
}

// A function created without LoggingConfig reports AWS's defaults.
func TestLauncherReportsDefaultLambdaLoggingConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := testenv.AWSConfig(t)
	name := testenv.UniqueName("launcher-logs-default")

	client := lambda.NewFromConfig(cfg)
	createFunction(t, cfg, name, nil)

	got, err := client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
	require.NoError(t, err)
	require.Equal(t, &lambdatypes.LoggingConfig{
		LogFormat: lambdatypes.LogFormatText,
		LogGroup:  aws.String("/aws/lambda/" + name),
	}, got.LoggingConfig)
}

// createFunction creates a function named name with its own role and a
// stand-in package, as edit (when not nil) changes the input, and deletes both
// when the test ends.
func createFunction(t *testing.T, cfg aws.Config, name string, edit func(*lambda.CreateFunctionInput)) *lambda.CreateFunctionOutput {
	t.Helper()
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Role:         lambdaRole(t, iam.NewFromConfig(cfg), name),
		Runtime:      lambdatypes.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Code:         &lambdatypes.FunctionCode{ZipFile: bootstrapZip(t)},
	}
	if edit != nil {
		edit(in)
	}
	client := lambda.NewFromConfig(cfg)
	out, err := client.CreateFunction(context.Background(), in)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = client.DeleteFunction(context.Background(), &lambda.DeleteFunctionInput{FunctionName: aws.String(name)})
	})
	return out
}

// lambdaRole creates an execution role, deleted when the test ends.
func lambdaRole(t *testing.T, client *iam.Client, name string) *string {
	t.Helper()
	out, err := client.CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = client.DeleteRole(context.Background(), &iam.DeleteRoleInput{RoleName: aws.String(name)})
	})
	return out.Role.Arn
}

// bootstrapZip is a deployment package; moto stores it and never runs it.
func bootstrapZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.Create("bootstrap")
	require.NoError(t, err)
	_, err = f.Write([]byte("#!/bin/sh\n"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}
