//go:build linux

package localrt

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// processAttrs puts each bootstrap in its own process group (so a kill
// reaches everything it started) and asks the kernel to kill it if the
// runtime dies without cleaning up.
func processAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// peakMemoryMB reads the process's peak resident set size (VmHWM) in MB, or
// -1 when it cannot be read.
func peakMemoryMB(pid int) int { return statusMB(pid, "VmHWM:") }

// statusMB reads a kB field of /proc/<pid>/status in MB (rounded up), or -1.
func statusMB(pid int, field string) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, field) {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			return -1
		}
		kb, err := strconv.Atoi(fields[1])
		if err != nil {
			return -1
		}
		return (kb + 1023) / 1024
	}
	return -1
}
