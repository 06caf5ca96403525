package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/offload/offload/pkg/idempotency"
)

// sendOnce performs a side effect at most once per request id.
func sendOnce(ctx context.Context, store idempotency.Store, requestID string, body []byte, send func() (string, error)) (string, error) {
	out, err := store.Begin(ctx, requestID, idempotency.HashPayload(body), idempotency.LeaseFor(ctx, 5*time.Second, time.Minute))
	if errors.Is(err, idempotency.ErrPayloadMismatch) {
		return "", fmt.Errorf("request %s reused with another payload: %w", requestID, err)
	}
	if err != nil {
		return "", err
	}
	switch out.Status {
	case idempotency.StatusCompleted:
		return string(out.Result), nil // done before: same answer
	case idempotency.StatusInProgress:
		return "", errors.New("in progress elsewhere; retry later")
	case idempotency.StatusLeaseExpired:
		// An earlier attempt died mid-way: it may or may not have sent.
		_ = store.MarkUnknown(ctx, requestID, out.Token, "attempt lease expired before completion")
		return "", errors.New("outcome unknown; reported, not resent")
	case idempotency.StatusUnknown:
		return "", errors.New("outcome unknown: " + out.Reason)
	}
	id, err := send()
	if err != nil {
		_ = store.Release(ctx, requestID, out.Token) // let a retry try again
		return "", err
	}
	return id, store.Complete(ctx, requestID, out.Token, []byte(id))
}

func Example() {
	store, _ := idempotency.NewMemory(idempotency.WithRetention(7 * 24 * time.Hour))
	ctx := context.Background()
	calls := 0
	send := func() (string, error) { calls++; return "provider-msg-1", nil }

	for range 3 { // the same request delivered three times
		id, err := sendOnce(ctx, store, "req-42", []byte(`{"to":"+447700900089"}`), send)
		fmt.Println(id, err)
	}
	_, err := sendOnce(ctx, store, "req-42", []byte(`{"to":"+447700900000"}`), send)
	fmt.Println(errors.Is(err, idempotency.ErrPayloadMismatch), "provider calls:", calls)
	// Output:
	// provider-msg-1 <nil>
	// provider-msg-1 <nil>
	// provider-msg-1 <nil>
	// true provider calls: 1
}
