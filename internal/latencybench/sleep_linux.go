package latencybench

import (
	"time"

	"golang.org/x/sys/unix"
)

// sleepUntil returns once due has passed. The runtime's timers cannot be
// used for the last stretch: an idle Go process waits for its next timer in
// epoll_pwait, whose timeout is in whole milliseconds, so time.Sleep wakes up
// to a millisecond late — lateness an open-loop generator would add to every
// latency it reports (measured on this project's machine: 0.6 ms at the
// median, 1.2 ms at p99, as much as the buffered endpoint's own answer). So
// the generator sleeps on the runtime's timer until 2 ms before due and then
// in nanosleep(2), which the kernel wakes within tens of microseconds. The
// loop also restarts a nanosleep the runtime's preemption signals cut short.
func sleepUntil(due time.Time) {
	if d := time.Until(due) - 2*time.Millisecond; d > 0 {
		time.Sleep(d)
	}
	for d := time.Until(due); d > 0; d = time.Until(due) {
		ts := unix.NsecToTimespec(d.Nanoseconds())
		_ = unix.Nanosleep(&ts, nil) // EINTR: the loop sleeps what is left
	}
}
