// Package sdkconfig loads the AWS SDK configuration of the commands, the
// example service, the local runtime and the tests: config.LoadDefaultConfig
// (the whole default chain: environment, shared files, SSO, IMDS) with its
// HTTP client mended by awsenv.HTTPClient, so that no answer is cut by the
// race that function documents. The Lambda functions use awsenv.Load
// instead, which does the same without linking the config package.
package sdkconfig

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/offload/offload/internal/awsenv"
)

// Load is config.LoadDefaultConfig with the loaded HTTP client (a CA bundle
// from AWS_CA_BUNDLE included) wrapped by awsenv.HTTPClient.
func Load(ctx context.Context, optFns ...func(*config.LoadOptions) error) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, optFns...)
	if err != nil {
		return aws.Config{}, err
	}
	cfg.HTTPClient = awsenv.HTTPClient(cfg.HTTPClient)
	return cfg, nil
}
