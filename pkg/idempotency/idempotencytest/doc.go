// Package idempotencytest is the conformance suite every idempotency.Store
// must pass. A store's tests call Run with a constructor:
//
//	func TestConformance(t *testing.T) {
//		idempotencytest.Run(t, func(t *testing.T, now func() time.Time) idempotency.Store {
//			s, err := idempotency.NewMemory(idempotency.WithClock(now), idempotency.WithRetention(idempotencytest.Retention))
//			require.NoError(t, err)
//			return s
//		})
//	}
package idempotencytest
