//go:build integration

package testenv_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
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
	f := newFunction(t, "launcher-logs", func(in *lambda.CreateFunctionInput) {
		in.Architectures = []lambdatypes.Architecture{lambdatypes.ArchitectureArm64}
		in.LoggingConfig = &lambdatypes.LoggingConfig{
			LogFormat:           lambdatypes.LogFormatJson,
			LogGroup:            aws.String("/aws/lambda/" + aws.ToString(in.FunctionName)),
			ApplicationLogLevel: lambdatypes.ApplicationLogLevelDebug,
		}
	})
	require.NotNil(t, f.created.LoggingConfig)

	require.Equal(t, &lambdatypes.LoggingConfig{
		LogFormat:           lambdatypes.LogFormatJson,
		LogGroup:            aws.String("/aws/lambda/" + f.name),
		ApplicationLogLevel: lambdatypes.ApplicationLogLevelDebug,
		SystemLogLevel:      lambdatypes.SystemLogLevelInfo, // AWS's default with JSON logs
	}, f.configuration(t).LoggingConfig)

	// An update changes what it names and keeps the rest; Text drops the levels.
	f.update(t, &lambda.UpdateFunctionConfigurationInput{LoggingConfig: &lambdatypes.LoggingConfig{LogFormat: lambdatypes.LogFormatText}})
	require.Equal(t, &lambdatypes.LoggingConfig{
		LogFormat: lambdatypes.LogFormatText,
		LogGroup:  aws.String("/aws/lambda/" + f.name),
	}, f.configuration(t).LoggingConfig)
}

// A function created without LoggingConfig reports AWS's defaults.
func TestLauncherReportsDefaultLambdaLoggingConfig(t *testing.T) {
	t.Parallel()
	f := newFunction(t, "launcher-logs-default", nil)
	require.Equal(t, &lambdatypes.LoggingConfig{
		LogFormat: lambdatypes.LogFormatText,
		LogGroup:  aws.String("/aws/lambda/" + f.name),
	}, f.configuration(t).LoggingConfig)
}

// testFunction is a function one launcher test created in the emulator.
type testFunction struct {
	name    string
	region  string
	client  *lambda.Client
	created *lambda.CreateFunctionOutput
}

// newFunction creates a function with a unique name from prefix, its own
// role and a stand-in package, as edit (when not nil) changes the input, and
// deletes both when the test ends.
func newFunction(t *testing.T, prefix string, edit func(*lambda.CreateFunctionInput)) *testFunction {
	t.Helper()
	cfg := testenv.AWSConfig(t)
	name := testenv.UniqueName(prefix)
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Role:         lambdaRole(t, iam.NewFromConfig(cfg), name),
		Runtime:      lambdatypes.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Code:         &lambdatypes.FunctionCode{ZipFile: testenv.BootstrapZip(t, "#!/bin/sh\n")},
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
	return &testFunction{name: name, region: cfg.Region, client: client, created: out}
}

// configuration is what GetFunctionConfiguration answers for f now.
func (f *testFunction) configuration(t *testing.T) *lambda.GetFunctionConfigurationOutput {
	t.Helper()
	got, err := f.client.GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(f.name)})
	require.NoError(t, err)
	return got
}

// update applies in (its FunctionName set to f's) and requires it to succeed.
func (f *testFunction) update(t *testing.T, in *lambda.UpdateFunctionConfigurationInput) {
	t.Helper()
	in.FunctionName = aws.String(f.name)
	_, err := f.client.UpdateFunctionConfiguration(context.Background(), in)
	require.NoError(t, err)
}

// lambdaRole creates an execution role, deleted when the test ends.
func lambdaRole(t *testing.T, client *iam.Client, name string) *string {
	t.Helper()
	out, err := client.CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	t.Cleanup(func() {
		_, _ = client.DeleteRole(context.Background(), &iam.DeleteRoleInput{RoleName: aws.String(name)})
	})
	// The name is this test's own: "already exists" means the first attempt
	// made the role and the busy emulator lost its answer before the SDK
	// retried (as testenv.CreateTable does for tables).
	var exists *iamtypes.EntityAlreadyExistsException
	if errors.As(err, &exists) {
		t.Logf("create role %s: %v; the first attempt's answer was lost, the role is this test's", name, err)
		got, gerr := client.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(name)})
		require.NoError(t, gerr)
		return got.Role.Arn
	}
	require.NoError(t, err)
	return out.Role.Arn
}
