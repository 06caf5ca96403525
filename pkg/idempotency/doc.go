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
//	case out.Status == idempotency.StatusAcquired:       // do the work, then Complete(out.Token) (or Release(out.Token)
//	                                                     // when the work certainly did not happen)
//	case out.Status == idempotency.StatusCompleted:      // done before: answer with out.Result
//	case out.Status == idempotency.StatusInProgress:     // someone else is on it: retry later
//	case out.Status == idempotency.StatusLeaseExpired:   // a previous attempt died mid-way: the caller
//	                                                     // holds the lease and decides (redo, or MarkUnknown)
//	case out.Status == idempotency.StatusUnknown:        // marked unknown before: never redo, report
//	}
//
// A lease is how long a holder may work before others may take over. Derive
// it from the remaining Lambda time (LeaseFor): a holder is then normally
// dead by the time its lease expires. Each lease also carries the attempt
// token Begin wrote (Outcome.Token), and Complete, Release and MarkUnknown
// only act on a record that still carries the caller's token: a stale holder
// gets ErrLeaseLost and changes nothing. A Begin whose write committed but
// whose answer was lost finds its own token on the re-read and holds the key;
// a finishing call repeated by the same attempt after a lost answer is a
// no-op. Release leaves a "released" record (the work did not happen) that
// the next Begin takes afresh.
//
// A caller whose side effect starts later than its claim passes DeferStart to
// Begin and calls Start immediately before the side effect: until then the
// record says "acquired, not started", and a lease that expires on it is
// taken over as not done (StatusAcquired) instead of StatusLeaseExpired. A
// holder that dies, or cannot write its Release, before starting therefore
// leaves a record that says the work did not happen.
//
// Records expire after a retention period (WithRetention) through an expiry
// attribute (unix seconds) that DynamoDB's TTL deletes; an expired record
// counts as absent even before TTL removes it.
//
// DynamoDBStore keeps records in a DynamoDB table with conditional writes;
// MemoryStore keeps them in memory for tests and single-process use. Both
// pass the conformance suite in idempotencytest.
package idempotency
