package twiliofake

import (
	"context"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/sms"
)

type creds struct{ c sms.TwilioCredentials }

func (c creds) Credentials(context.Context) (sms.TwilioCredentials, error) { return c.c, nil }
func (c creds) Invalidate()                                                {}

// The fake speaks the API shape pkg/sms.Twilio speaks: the real client gets a
// sid back and the fake records the message under the request id in its body.
func TestRealClientSendsAndIsRecorded(t *testing.T) {
	s := start(t)
	tw := sms.NewTwilio(creds{sms.TwilioCredentials{AccountSID: "ACtest", AuthToken: "tok", From: "+15005550006"}}, sms.WithTwilioURL(s.URL))
	rec, err := tw.Send(context.Background(), sms.Request{RequestID: "req-00001", To: "+447700900123", Body: "code req-00001 is 42"})
	require.NoError(t, err)
	require.Regexp(t, `^SM[0-9a-f]{32}$`, rec.ID)
	got := s.Accepted()
	require.Len(t, got, 1)
	require.Equal(t, "req-00001", got[0].Key)
	require.Equal(t, "+447700900123", got[0].To)
	require.Equal(t, "+15005550006", got[0].From)
	require.Equal(t, rec.ID, got[0].SID)
	require.True(t, got[0].Answered)
}

func TestWrongCredentialsAre401(t *testing.T) {
	s := start(t)
	tw := sms.NewTwilio(creds{sms.TwilioCredentials{AccountSID: "ACtest", AuthToken: "wrong", From: "+15005550006"}}, sms.WithTwilioURL(s.URL))
	_, err := tw.Send(context.Background(), sms.Request{To: "+447700900123", Body: "x"})
	require.Error(t, err)
	require.Empty(t, s.Accepted())
}

// Each mode applies once to its key, and records exactly what a real edge
// would have sent: accept-then-500 and accept-then-hang record, throttle does not.
func TestFaultModes(t *testing.T) {
	s := start(t)
	tw := sms.NewTwilio(creds{sms.TwilioCredentials{AccountSID: "ACtest", AuthToken: "tok", From: "+15005550006"}},
		sms.WithTwilioURL(s.URL), sms.WithHTTPClient(&http.Client{Timeout: 300 * time.Millisecond}))
	s.Fail("req-00002", AcceptThen500)
	s.Fail("req-00003", AcceptThenHang)
	s.Fail("req-00004", Throttle)
	ctx := context.Background()

	_, err := tw.Send(ctx, sms.Request{To: "+447700900123", Body: "req-00002"})
	require.Error(t, err)
	_, err = tw.Send(ctx, sms.Request{To: "+447700900123", Body: "req-00003"})
	require.Error(t, err)
	_, err = tw.Send(ctx, sms.Request{To: "+447700900123", Body: "req-00004"})
	require.Error(t, err)
	require.Equal(t, sms.Retryable, sms.KindOf(err))
	d, ok := sms.RetryAfterOf(err)
	require.True(t, ok)
	require.Equal(t, 2*time.Second, d)

	// Once only: the throttled key is accepted on the next try.
	_, err = tw.Send(ctx, sms.Request{To: "+447700900123", Body: "req-00004"})
	require.NoError(t, err)

	keys := map[string]bool{}
	for _, a := range s.Accepted() {
		keys[a.Key] = a.Answered
	}
	require.Equal(t, map[string]bool{"req-00002": false, "req-00003": false, "req-00004": true}, keys)
	require.Equal(t, map[Mode]int{AcceptThen500: 1, AcceptThenHang: 1, Throttle: 1}, s.Fired())
	require.Equal(t, 4, s.Requests())
}

func start(t *testing.T) *Server {
	t.Helper()
	s, err := Start(Options{AccountSID: "ACtest", AuthToken: "tok", KeyPattern: regexp.MustCompile(`req-\d{5}`), RetryAfterSeconds: 2})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}
