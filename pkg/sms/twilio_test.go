package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/require"
)

// fakeTwilio answers like Twilio's Messages API. Each test scripts the
// responses; every request is recorded.
type fakeTwilio struct {
	mu       sync.Mutex
	requests []twilioRequest
	respond  func(n int, r twilioRequest) (status int, header http.Header, body string)
}

type twilioRequest struct {
	Path, User, Pass, To, From, Body, MessagingServiceSID string
}

func (f *fakeTwilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	user, pass, _ := r.BasicAuth()
	req := twilioRequest{Path: r.URL.Path, User: user, Pass: pass, To: r.PostForm.Get("To"), From: r.PostForm.Get("From"),
		Body: r.PostForm.Get("Body"), MessagingServiceSID: r.PostForm.Get("MessagingServiceSid")}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	n := len(f.requests)
	f.mu.Unlock()
	status, header, body := f.respond(n, req)
	for k, v := range header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func created(n int, _ twilioRequest) (int, http.Header, string) {
	return 201, nil, fmt.Sprintf(`{"sid":"SM%032d","status":"queued","to":"+447700900123","num_segments":"1"}`, n)
}

func twilioErr(status, code int, msg string) string {
	b, _ := json.Marshal(map[string]any{"code": code, "message": msg, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status})
	return string(b)
}

type staticCreds struct {
	creds       TwilioCredentials
	invalidated atomic.Int32
}

func (s *staticCreds) Credentials(context.Context) (TwilioCredentials, error) { return s.creds, nil }
func (s *staticCreds) Invalidate()                                            { s.invalidated.Add(1) }

func newTwilio(t *testing.T, respond func(int, twilioRequest) (int, http.Header, string)) (*Twilio, *fakeTwilio, *staticCreds) {
	t.Helper()
	fake := &fakeTwilio{respond: respond}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	creds := &staticCreds{creds: TwilioCredentials{AccountSID: "AC123", AuthToken: "tok", From: "+15005550006"}}
	return NewTwilio(creds, WithTwilioURL(srv.URL)), fake, creds
}

var msg = Request{RequestID: "r-1", To: "+447700900123", Body: "Your code is 123456"}

func TestTwilioSendsOneFormPostAndReturnsTheSID(t *testing.T) {
	t.Parallel()
	p, fake, _ := newTwilio(t, created)
	rec, err := p.Send(context.Background(), msg)
	require.NoError(t, err)
	require.Equal(t, Receipt{Provider: "twilio", ID: "SM00000000000000000000000000000001"}, rec)
	require.Len(t, fake.requests, 1)
	got := fake.requests[0]
	require.Equal(t, "/2010-04-01/Accounts/AC123/Messages.json", got.Path)
	require.Equal(t, "AC123", got.User)
	require.Equal(t, "tok", got.Pass)
	require.Equal(t, "+447700900123", got.To)
	require.Equal(t, "+15005550006", got.From)
	require.Equal(t, "Your code is 123456", got.Body)
}

func TestTwilioSenderChoice(t *testing.T) {
	t.Parallel()
	p, fake, creds := newTwilio(t, created)
	m := msg
	m.SenderID = "Offload"
	_, err := p.Send(context.Background(), m)
	require.NoError(t, err)
	require.Equal(t, "Offload", fake.requests[0].From)

	creds.creds.MessagingServiceSID = "MG1"
	_, err = p.Send(context.Background(), msg)
	require.NoError(t, err)
	require.Equal(t, "MG1", fake.requests[1].MessagingServiceSID)
	require.Empty(t, fake.requests[1].From)
}

func TestTwilioClassifiesErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		kind       Kind
		code       string
		retryAfter time.Duration
	}{
		{"invalid number", 400, nil, twilioErr(400, 21211, "The 'To' number +447700900123 is not a valid phone number."), Rejected, "21211", 0},
		{"unsubscribed", 400, nil, twilioErr(400, 21610, "Attempt to send to unsubscribed recipient"), Rejected, "21610", 0},
		{"unknown 4xx code", 400, nil, twilioErr(400, 29999, "something new"), Rejected, "29999", 0},
		{"throttled", 429, http.Header{"Retry-After": {"7"}}, twilioErr(429, 20429, "Too Many Requests"), Retryable, "20429", 7 * time.Second},
		{"throttled no header", 429, nil, twilioErr(429, 20429, "Too Many Requests"), Retryable, "20429", 0},
		{"server error", 500, nil, twilioErr(500, 20500, "Internal Server Error"), Unknown, "20500", 0},
		{"server error with Retry-After", 503, http.Header{"Retry-After": {"3"}}, twilioErr(503, 20503, "Service Unavailable"), Unknown, "20503", 0},
		{"bad gateway html", 502, nil, "<html>bad gateway</html>", Unknown, "HTTP 502", 0},
		{"redirect", 302, nil, "", Unknown, "HTTP 302", 0},
		{"201 without sid", 201, nil, `{}`, Unknown, "bad-response", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, fake, _ := newTwilio(t, func(int, twilioRequest) (int, http.Header, string) { return tc.status, tc.header, tc.body })
			_, err := p.Send(context.Background(), msg)
			var pe *Error
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.kind, pe.Kind, "%v", err)
			require.Equal(t, tc.code, pe.Code)
			require.Equal(t, tc.retryAfter, pe.RetryAfter)
			require.Equal(t, tc.kind, KindOf(err))
			require.NotContains(t, err.Error(), "7700900123", "the number is masked")
			require.Len(t, fake.requests, 1, "one attempt, never an internal retry")
		})
	}
}

func TestTwilio401RefreshesCredentialsOnce(t *testing.T) {
	t.Parallel()
	p, fake, creds := newTwilio(t, func(n int, r twilioRequest) (int, http.Header, string) {
		if n == 1 {
			return 401, nil, twilioErr(401, 20003, "Authenticate")
		}
		return created(n, r)
	})
	rec, err := p.Send(context.Background(), msg)
	require.NoError(t, err)
	require.NotEmpty(t, rec.ID)
	require.EqualValues(t, 1, creds.invalidated.Load())
	require.Len(t, fake.requests, 2)

	// Still 401 after refreshing: rejected, no third attempt.
	p2, fake2, _ := newTwilio(t, func(int, twilioRequest) (int, http.Header, string) {
		return 401, nil, twilioErr(401, 20003, "Authenticate")
	})
	_, err = p2.Send(context.Background(), msg)
	require.Equal(t, Rejected, KindOf(err))
	require.Len(t, fake2.requests, 2)
}

func TestTwilioTimeoutIsAnUnknownOutcome(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	fake := &fakeTwilio{respond: func(n int, r twilioRequest) (int, http.Header, string) {
		<-release // accepted, but the answer never comes in time
		return created(n, r)
	}}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	p := NewTwilio(&staticCreds{creds: TwilioCredentials{AccountSID: "AC1", AuthToken: "t", From: "+15005550006"}},
		WithTwilioURL(srv.URL), WithHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}))
	_, err := p.Send(context.Background(), msg)
	require.Equal(t, Unknown, KindOf(err), "%v", err)
	fake.mu.Lock()
	require.Len(t, fake.requests, 1, "the request reached the provider")
	fake.mu.Unlock()
}

func TestTwilioConnectionRefusedIsRetryable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now
	p := NewTwilio(&staticCreds{creds: TwilioCredentials{AccountSID: "AC1", AuthToken: "t", From: "+15005550006"}}, WithTwilioURL("http://"+addr))
	_, err = p.Send(context.Background(), msg)
	require.Equal(t, Retryable, KindOf(err), "%v", err)
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	require.Equal(t, 3*time.Second, parseRetryAfter("3", now))
	require.Equal(t, 90*time.Second, parseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now))
	require.Zero(t, parseRetryAfter("", now))
	require.Zero(t, parseRetryAfter("soon", now))
	require.Zero(t, parseRetryAfter("-1", now))
}

type fakeSecrets struct {
	calls  atomic.Int32
	secret string
	err    error
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.calls.Add(1)
	if f.err != nil {
		return nil, f.err
	}
	return &secretsmanager.GetSecretValueOutput{ARN: in.SecretId, SecretString: aws.String(f.secret)}, nil
}

func TestSecretCredentialsFetchOnceAndRefreshOnInvalidate(t *testing.T) {
	t.Parallel()
	sm := &fakeSecrets{secret: `{"account_sid":"AC9","auth_token":"s3cr3t-token","from":"+15005550006"}`}
	src := NewSecretCredentials(sm, "arn:aws:secretsmanager:us-east-1:123456789012:secret:twilio", time.Hour)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := src.Credentials(context.Background())
			require.NoError(t, err)
			require.Equal(t, "AC9", c.AccountSID)
		}()
	}
	wg.Wait()
	require.EqualValues(t, 1, sm.calls.Load(), "one Secrets Manager call per container")
	src.Invalidate()
	_, err := src.Credentials(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 2, sm.calls.Load())

	c, _ := src.Credentials(context.Background())
	require.NotContains(t, c.String(), "s3cr3t")
	require.NotContains(t, fmt.Sprintf("%v %+v", c, c), "s3cr3t")
}

func TestSecretCredentialsErrorsNeverEchoTheSecret(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{`not json s3cr3t`, `{"account_sid":"AC9","auth_token":""}`} {
		src := NewSecretCredentials(&fakeSecrets{secret: secret}, "twilio", 0)
		_, err := src.Credentials(context.Background())
		require.Error(t, err)
		require.NotContains(t, err.Error(), "s3cr3t")
	}
	src := NewSecretCredentials(&fakeSecrets{err: errors.New("AccessDenied")}, "twilio", 0)
	_, err := src.Credentials(context.Background())
	require.ErrorContains(t, err, "get secret twilio")
	require.True(t, strings.Contains(err.Error(), "AccessDenied"))
}
