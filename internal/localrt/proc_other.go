//go:build unix && !linux

package localrt

import "syscall"

// processAttrs puts each bootstrap in its own process group, so a kill
// reaches everything it started.
func processAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// peakMemoryMB is not measured on this platform.
func peakMemoryMB(int) int { return -1 }
