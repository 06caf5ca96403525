package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/logging/loggingtest"
)

// TestEveryLogLineCarriesTheLambdaRequestID: on-call finds an invocation's
// lines by request_id, as for the other functions (logging.FromLambda).
func TestEveryLogLineCarriesTheLambdaRequestID(t *testing.T) {
	h, _, _ := setup(t)
	var out loggingtest.Buffer
	h.log = logging.New(logging.WithOutput(&out))
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-7"})

	require.NoError(t, h.handle(ctx, fixture(t, "sns-alarm-event.json")))
	// A part that is not an alarm is logged too.
	require.Error(t, h.handle(ctx, json.RawMessage(`{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"not json"}}]}`)))

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.GreaterOrEqual(t, len(lines), 2)
	for _, line := range lines {
		var entry map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &entry), line)
		require.Equal(t, "req-7", entry[logging.FieldRequestID], line)
	}
}
