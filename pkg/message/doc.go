// Package message holds the wire contract every offload producer and consumer
// shares: the SQS message attribute names that carry the idempotency key, the
// message type and version, and — on messages a consumer dead-letters — why it
// failed and where it came from.
//
// It also holds the failure classes (ClassDecode, ClassConflict, …), the
// values of AttrFailureClass, and the two errors every message decoder
// returns: DecodeError and ValidationError. Both say their own class and
// that they are permanent (FailureClass, Permanent), which is all pkg/batch
// needs to dead-letter a record with its reason; a domain package classifies
// its own failures the same way without importing the batch processor.
//
// The names are part of the public contract: a user-facing service written in
// any language can set them, and the DLQ tooling reads them back. SQS allows at
// most 10 message attributes per message; offload uses at most 3 on a normal
// message and adds at most 6 when dead-lettering.
package message
