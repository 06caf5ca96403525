//go:build !linux

package latencybench

import "time"

// sleepUntil returns once due has passed. Outside Linux it is time.Sleep,
// which can wake up to a millisecond late; the report's gen_lag_ms shows by
// how much, and that lateness is counted in the latencies (sleep_linux.go).
func sleepUntil(due time.Time) {
	time.Sleep(time.Until(due))
}
