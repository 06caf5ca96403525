// Package sms sends text messages at most once per request.
//
// A Request carries an idempotency key (RequestID), an E.164 destination, a
// body and an optional sender id. Providers — Amazon SNS and Twilio's REST
// API — sit behind the Provider interface and classify every failure as an
// *Error of one Kind: Rejected (permanent: the number or the request is
// invalid, retrying cannot help), Retryable (nothing was sent: throttling,
// 5xx, connection refused) or Unknown (the provider may have accepted it: a
// timeout after the request left). Only Retryable is ever retried; an Unknown
// outcome is reported, never silently resent.
//
// Phone numbers never appear in full in errors or logs: MaskNumber keeps the
// first two and last two digits. Bodies are never logged.
//
// This package checks the E.164 shape only, to keep the Lambda small (see
// docs/development.md); producers parse and validate numbers fully with
// package sms/phone before they enqueue.
package sms
