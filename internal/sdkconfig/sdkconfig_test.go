package sdkconfig_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/sdkconfig"
)

// Load hands out awsenv.HTTPClient's wrapper, not the SDK's own client
// (which loses answers: awsenv's race test), and the wrapper sends.
func TestLoadWrapsTheHTTPClientTheSDKBuilt(t *testing.T) {
	t.Parallel()
	cfg, err := sdkconfig.Load(context.Background(), config.WithRegion("eu-west-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")))
	require.NoError(t, err)
	require.Equal(t, "eu-west-1", cfg.Region)
	_, raw := cfg.HTTPClient.(*awshttp.BuildableClient)
	require.False(t, raw, "the SDK's own client, unwrapped: %T", cfg.HTTPClient)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	req, err := http.NewRequest(http.MethodPost, srv.URL, http.NoBody)
	require.NoError(t, err)
	resp, err := cfg.HTTPClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
