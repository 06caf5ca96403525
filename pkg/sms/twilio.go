package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultTwilioURL is Twilio's REST API.
const DefaultTwilioURL = "https://api.twilio.com"

// Twilio error codes that mean the message can never be sent as requested.
// https://www.twilio.com/docs/api/errors
var twilioRejected = map[int]string{
	21211: "invalid 'To' number",
	21214: "'To' number cannot be reached",
	21408: "sending to this region is not enabled",
	21602: "message body is required",
	21606: "'From' number cannot send this message",
	21610: "recipient unsubscribed (replied STOP)",
	21612: "'To' number cannot be routed from this 'From'",
	21614: "'To' number is not a mobile number",
	21617: "message body too long",
	21659: "'From' is not a Twilio number",
	20003: "authentication failed",
	20404: "account or resource not found",
}

// Twilio sends text messages through Twilio's Messages API over net/http.
// Create it with NewTwilio.
type Twilio struct {
	http    *http.Client
	baseURL string
	creds   CredentialSource
}

// TwilioOption configures the Twilio provider.
type TwilioOption func(*Twilio)

// WithTwilioURL points the provider at another base URL (a fake in tests).
func WithTwilioURL(u string) TwilioOption {
	return func(t *Twilio) { t.baseURL = strings.TrimRight(u, "/") }
}

// WithHTTPClient replaces the HTTP client (default: 10 s timeout).
func WithHTTPClient(c *http.Client) TwilioOption { return func(t *Twilio) { t.http = c } }

// NewTwilio returns a Twilio provider whose account SID, auth token and
// default sender come from creds (Secrets Manager in production).
func NewTwilio(creds CredentialSource, opts ...TwilioOption) *Twilio {
	t := &Twilio{http: &http.Client{Timeout: 10 * time.Second}, baseURL: DefaultTwilioURL, creds: creds}
	for _, o := range opts {
		o(t)
	}
	return t
}

// Name implements Provider.
func (t *Twilio) Name() string { return "twilio" }

type twilioMessage struct {
	SID    string `json:"sid"`
	Status string `json:"status"`
}

type twilioError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// Send implements Provider. On 401 it refreshes the credentials once (they may
// have been rotated) before giving up.
func (t *Twilio) Send(ctx context.Context, m Request) (Receipt, error) {
	r, err := t.send(ctx, m)
	var pe *Error
	if errors.As(err, &pe) && pe.Code == "HTTP 401" {
		t.creds.Invalidate()
		r, err = t.send(ctx, m)
	}
	return r, err
}

func (t *Twilio) send(ctx context.Context, m Request) (Receipt, error) {
	c, err := t.creds.Credentials(ctx)
	if err != nil {
		// Nothing left for Twilio: safe to retry.
		return Receipt{}, &Error{Provider: t.Name(), Kind: Retryable, Code: "credentials", Message: "cannot read Twilio credentials", Err: err}
	}
	form := url.Values{"To": {m.To}, "Body": {m.Body}}
	switch {
	case m.SenderID != "":
		form.Set("From", m.SenderID)
	case c.MessagingServiceSID != "":
		form.Set("MessagingServiceSid", c.MessagingServiceSID)
	default:
		form.Set("From", c.From)
	}
	endpoint := fmt.Sprintf("%s/2010-04-01/Accounts/%s/Messages.json", t.baseURL, url.PathEscape(c.AccountSID))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Receipt{}, &Error{Provider: t.Name(), Kind: Rejected, Code: "request", Message: "cannot build request", Err: err}
	}
	req.SetBasicAuth(c.AccountSID, c.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")

	resp, err := t.http.Do(req)
	if err != nil {
		if Classify(Answer{Transport: err}) == Retryable {
			return Receipt{}, &Error{Provider: t.Name(), Kind: Retryable, Code: "connect", Message: "connection failed before the request was sent", Err: err}
		}
		return Receipt{}, &Error{Provider: t.Name(), Kind: Unknown, Code: "no-response", Message: "no answer from Twilio: the message may have been sent", Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil && resp.StatusCode < 400 {
		return Receipt{}, &Error{Provider: t.Name(), Kind: Unknown, Code: "truncated-response", Message: "Twilio answered " + resp.Status + " but the answer was cut off: the message may have been sent", Err: err}
	}
	if resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK {
		var tm twilioMessage
		if err := json.Unmarshal(body, &tm); err != nil || tm.SID == "" {
			return Receipt{}, &Error{Provider: t.Name(), Kind: Unknown, Code: "bad-response", Message: "Twilio answered " + resp.Status + " without a message sid"}
		}
		return Receipt{Provider: t.Name(), ID: tm.SID}, nil
	}
	return Receipt{}, classifyTwilio(resp, body, m.To)
}

// twilioThrottled are Twilio error codes meaning "too many requests" or a
// queue/quota limit: nothing was accepted.
var twilioThrottled = map[int]bool{20429: true, 14107: true, 30022: true}

// classifyTwilio describes a non-success answer and lets Classify decide.
func classifyTwilio(resp *http.Response, body []byte, to string) *Error {
	var te twilioError
	_ = json.Unmarshal(body, &te)
	e := &Error{Provider: "twilio", Code: "HTTP " + strconv.Itoa(resp.StatusCode)}
	if te.Code != 0 {
		e.Code = strconv.Itoa(te.Code)
	}
	e.Message = strings.ReplaceAll(te.Message, to, MaskNumber(to))
	if reason, ok := twilioRejected[te.Code]; ok && e.Message == "" {
		e.Message = reason
	}
	e.Kind = Classify(Answer{Status: resp.StatusCode, Throttled: twilioThrottled[te.Code]})
	switch {
	case e.Kind == Retryable:
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	case e.Kind == Unknown && e.Message == "":
		e.Message = "Twilio answered " + resp.Status + ": the message may have been sent"
	case e.Kind == Unknown:
		e.Message += " (HTTP " + strconv.Itoa(resp.StatusCode) + ": the message may have been sent)"
	}
	if resp.StatusCode == http.StatusUnauthorized {
		e.Code = "HTTP 401" // Send refreshes the credentials once on this code
	}
	return e
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}
