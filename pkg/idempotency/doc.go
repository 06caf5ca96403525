// Package idempotency records which requests have been processed, so that a
// redelivered message neither repeats a side effect nor gets a different
// answer.
//
// A caller brackets its side effect with a Store:
//
//	out, err := store.Begin(ctx, key, idempotency.HashPayload(body), idempotency.LeaseFor(ctx, 5*time.Second, time.Minute))
//	switch {
//	case errors.Is(err, idempotency.ErrPayloadMismatch): // same key, different payload: permanent
//	case err != nil:                                     // store unavailable: transient
//	case out.Status == idempotency.StatusAcquired:       // do the work, then Complete (or Release on failure)
//	case out.Status == idempotency.StatusCompleted:      // done before: answer with out.Result
//	case out.Status == idempotency.StatusInProgress:     // someone else is on it: retry later
//	case out.Status == idempotency.StatusLeaseExpired:   // a previous attempt died mid-way: the caller
//	                                                     // holds the lease and decides (redo, or MarkUnknown)
//	case out.Status == idempotency.StatusUnknown:        // marked unknown before: never redo, report
//	}
//
// A lease is how long a holder may work before others may take over. Derive
// it from the remaining Lambda time (LeaseFor): a holder is then dead by the
// time its lease expires, so holders need no fencing token.
//
// Records expire after a retention period (WithRetention) through an expiry
// attribute (unix seconds) that DynamoDB's TTL deletes; an expired record
// counts as absent even before TTL removes it.
//
// DynamoDBStore keeps records in a DynamoDB table with conditional writes;
// MemoryStore keeps them in memory for tests and single-process use. Both
// pass the conformance suite in idempotencytest.
package idempotency
