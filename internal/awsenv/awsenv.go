// Package awsenv builds the AWS SDK configuration of a Lambda function from
// the environment Lambda gives it, without the SDK's config package.
//
// config.LoadDefaultConfig links the whole default credential chain — SSO,
// SSO-OIDC, STS, sign-in, IMDS, shared config files — about 0.6 MB of code
// (≈ 0.25 MB zipped) a function never uses: Lambda puts the execution
// role's credentials and the region in the environment, and the local
// runtime (internal/localrt) does the same. The function binaries use Load;
// commands and services outside Lambda use sdkconfig.Load, which is
// config.LoadDefaultConfig with the same HTTP client.
package awsenv

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Load returns the configuration Lambda's environment describes, read with
// getenv (os.Getenv):
//
//   - region: AWS_REGION, else AWS_DEFAULT_REGION (required);
//   - credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (required) and
//     AWS_SESSION_TOKEN — the execution role's, as Lambda sets them;
//   - endpoint: AWS_ENDPOINT_URL, the SDK's standard variable, for every
//     service (the local stack sets it; unset on AWS), and the per-service
//     AWS_ENDPOINT_URL_<SERVICE ID> (e.g. AWS_ENDPOINT_URL_SQS,
//     AWS_ENDPOINT_URL_SECRETS_MANAGER), which wins for its service; both are
//     ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true — as
//     config.LoadDefaultConfig reads them.
//
// Everything else is the SDK clients' defaults (standard retries, the
// default HTTP client as HTTPClient mends it). Shared config files,
// profiles, SSO, web identity, container and IMDS credentials are not read:
// a function outside Lambda's environment must be given the variables above.
func Load(getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return aws.Config{}, errors.New("AWS_REGION is not set")
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return aws.Config{}, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (a function reads its credentials from Lambda's environment only)")
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN")),
		HTTPClient:  HTTPClient(nil),
	}
	if strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return cfg, nil
	}
	if u := getenv("AWS_ENDPOINT_URL"); u != "" {
		cfg.BaseEndpoint = aws.String(u)
	}
	// Each client asks its config sources for AWS_ENDPOINT_URL_<service>.
	cfg.ConfigSources = []any{serviceEndpoints(getenv)}
	return cfg, nil
}

// serviceEndpoints answers the clients' question for a per-service endpoint
// (the SDK's ServiceBaseEndpointProvider, as config.EnvConfig does).
type serviceEndpoints func(string) string

// GetServiceBaseEndpoint returns AWS_ENDPOINT_URL_<sdkID in upper case,
// spaces as underscores>.
func (e serviceEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	if u := e("AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_")); u != "" {
		return u, true, nil
	}
	return "", false, nil
}
