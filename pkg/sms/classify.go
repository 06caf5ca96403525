package sms

import (
	"errors"
	"net"
	"net/http"
)

// Answer is what a provider attempt produced, as far as the provider
// contract cares. Both providers describe each failed attempt as an Answer and
// let Classify decide its Kind, so that they follow one rule.
type Answer struct {
	// Transport is the error of an attempt that got no HTTP answer (nil when
	// the provider answered).
	Transport error
	// Status is the HTTP status of the provider's answer (0 without one).
	Status int
	// Throttled says the provider's error code means throttling or quota
	// (SNS "Throttling", Twilio 20429), whatever the status.
	Throttled bool
	// Refused says the provider's error code is a refusal that leaves
	// nothing sent but may pass later without changing the request (SNS
	// KMS* errors: the topic's key is disabled or throttled), whatever the
	// status.
	Refused bool
}

// Classify is the provider contract, the one rule both providers follow:
// only an answer that proves the provider did not accept the message is
// Retryable (throttling, HTTP 429, a connection that failed before the
// request was written, a refusal that may pass later) or Rejected (any other
// 4xx: invalid number, unsubscribed, bad credentials). Everything that leaves
// open whether the request reached the provider and was accepted — HTTP 5xx,
// timeouts, connection resets, answers that are not a clear refusal — is
// Unknown: reported and never resent automatically.
func Classify(a Answer) Kind {
	if a.Transport != nil {
		if notSent(a.Transport) {
			return Retryable
		}
		return Unknown
	}
	switch {
	case a.Status >= 500 || a.Status < 400:
		// A 5xx does not prove anything: an edge may have handed the
		// message on before failing. 1xx-3xx here is an unreadable answer.
		return Unknown
	case a.Throttled || a.Refused || a.Status == http.StatusTooManyRequests:
		return Retryable
	default:
		return Rejected
	}
}

// notSent reports whether a transport error happened before the request could
// reach the provider (DNS failure, connection refused or timed out while
// dialling): only then is it certain that nothing was written.
func notSent(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}
