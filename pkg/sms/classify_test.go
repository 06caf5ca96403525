package sms

import (
	"context"
	"errors"
	"net"
	"net/url"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClassifyIsTheProviderContract(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	cases := []struct {
		name string
		a    Answer
		want Kind
	}{
		{"connection refused while dialling", Answer{Transport: &url.Error{Op: "Post", URL: "https://x", Err: refused}}, Retryable},
		{"DNS failure", Answer{Transport: &net.DNSError{Err: "no such host", Name: "api.twilio.com"}}, Retryable},
		{"connection reset after writing", Answer{Transport: &url.Error{Op: "Post", URL: "https://x", Err: reset}}, Unknown},
		{"timeout waiting for the answer", Answer{Transport: context.DeadlineExceeded}, Unknown},
		{"unexpected EOF", Answer{Transport: errors.New("unexpected EOF")}, Unknown},
		{"429", Answer{Status: 429}, Retryable},
		{"throttling code on 400", Answer{Status: 400, Throttled: true}, Retryable},
		{"refusal that may pass later (KMS)", Answer{Status: 400, Refused: true}, Retryable},
		{"400 validation", Answer{Status: 400}, Rejected},
		{"401 credentials", Answer{Status: 401}, Rejected},
		{"403 authorization", Answer{Status: 403}, Rejected},
		{"404", Answer{Status: 404}, Rejected},
		{"500", Answer{Status: 500}, Unknown},
		{"500 with a throttling code", Answer{Status: 500, Throttled: true}, Unknown},
		{"502", Answer{Status: 502}, Unknown},
		{"503", Answer{Status: 503}, Unknown},
		{"504", Answer{Status: 504}, Unknown},
		{"2xx that is not an acceptance", Answer{Status: 200}, Unknown},
		{"redirect", Answer{Status: 302}, Unknown},
		{"no status at all", Answer{}, Unknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, Classify(tc.a))
		})
	}
}
