package twiliofake

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
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

// LogNormal has the median and 99th percentile it was given (20,000 draws:
// the sample quantiles are within a few percent of the true ones).
func TestLogNormalHasTheGivenMedianAndP99(t *testing.T) {
	draw, err := LogNormal(250*time.Millisecond, 1500*time.Millisecond, 0)
	require.NoError(t, err)
	const n = 20000
	d := make([]time.Duration, n)
	for i := range d {
		d[i] = draw()
	}
	slices.Sort(d)
	require.InDelta(t, 250, float64(d[n/2])/1e6, 250*0.06, "median ms")
	require.InDelta(t, 1500, float64(d[n*99/100])/1e6, 1500*0.15, "p99 ms")

	capped, err := LogNormal(250*time.Millisecond, 1500*time.Millisecond, 300*time.Millisecond)
	require.NoError(t, err)
	for range 1000 {
		require.LessOrEqual(t, capped(), 300*time.Millisecond)
	}
	_, err = LogNormal(2*time.Second, time.Second, 0)
	require.Error(t, err)
}

// With a latency the answer comes no sooner than the drawn delay, and the
// message is recorded.
func TestLatencyDelaysTheAnswer(t *testing.T) {
	const delay = 80 * time.Millisecond
	s, err := Start(Options{AccountSID: "ACtest", AuthToken: "tok", Latency: func() time.Duration { return delay }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	tw := sms.NewTwilio(creds{sms.TwilioCredentials{AccountSID: "ACtest", AuthToken: "tok", From: "+15005550006"}}, sms.WithTwilioURL(s.URL))
	start := time.Now()
	_, err = tw.Send(context.Background(), sms.Request{RequestID: "r", To: "+447700900123", Body: "hi"})
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), delay)
	require.Len(t, s.Accepted(), 1)
}

// KeepAccepted bounds the record of a long-running stand-in to the newest.
func TestKeepAcceptedKeepsTheNewest(t *testing.T) {
	s, err := Start(Options{AccountSID: "ACtest", AuthToken: "tok", KeepAccepted: 3})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	tw := sms.NewTwilio(creds{sms.TwilioCredentials{AccountSID: "ACtest", AuthToken: "tok", From: "+15005550006"}}, sms.WithTwilioURL(s.URL))
	for i := range 10 {
		_, err := tw.Send(context.Background(), sms.Request{To: "+447700900123", Body: fmt.Sprint("m", i)})
		require.NoError(t, err)
	}
	var bodies []string
	for _, a := range s.Accepted() {
		bodies = append(bodies, a.Body)
	}
	require.Equal(t, []string{"m7", "m8", "m9"}, bodies)
	require.Equal(t, 10, s.Requests())
}
