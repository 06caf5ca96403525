// Package audit is the article's AuditMessage contract and its DynamoDB store.
//
// The queue body is the JSON a .NET producer with Newtonsoft.Json sends:
//
//	{"messageId": "…", "auditText": "…", "auditTime": "2026-11-26T23:12:43.1234567Z"}
//
// messageId is optional (omitted when null); auditTime may carry up to seven
// fractional digits, a "Z", an offset, or no zone at all (DateTimeKind
// Unspecified, read as UTC), and the old "\/Date(ms)\/" form is accepted too.
// Decode turns a body into a Message and reports every problem as a
// *message.DecodeError or *message.ValidationError: permanent errors that
// name their own failure class, which a consumer returns as they are.
//
// The table keeps the article's schema: messageId (S, HASH) and auditTime (S,
// RANGE, UTC in .NET's round-trip "O" format, so it sorts as text). Store.Put
// writes an item only if none exists under that key, and tells a harmless
// duplicate delivery (same content) from a conflict (same key, different
// content), which it never overwrites.
package audit
