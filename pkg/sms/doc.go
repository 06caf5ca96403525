// Package sms sends text messages at most once per request.
//
// A Request carries an idempotency key (RequestID), an E.164 destination, a
// body and an optional sender id. Providers — Amazon SNS and Twilio's REST
// API — sit behind the Provider interface and classify every failure as an
// *Error of one Kind, by one rule (Classify): Rejected (permanent: a 4xx
// refusal, the number or the request is invalid, retrying cannot help),
// Retryable (provably nothing was sent: throttling, 429, a connection that
// failed before the request was written) or Unknown (anything else: HTTP 5xx,
// a timeout or reset after the request left, an unreadable answer — the
// provider may have accepted it). Only Retryable is ever retried; an Unknown
// outcome is reported (message.ClassUnknownOutcome), never silently resent.
//
// Sender guards each request with an idempotency lease (pkg/idempotency),
// bounds each provider call (WithSendTimeout) and does not start a call the
// record's deadline could cut (ErrNoTimeToSend).
//
// Phone numbers never appear in full in errors or logs: MaskNumber keeps the
// country code and the last two digits, the same policy (and the same code)
// pkg/logging masks phone numbers with. Bodies are never logged.
//
// This package checks the E.164 shape only, to keep the Lambda small (see
// docs/development.md); producers parse and validate numbers fully with
// package sms/phone before they enqueue.
package sms
