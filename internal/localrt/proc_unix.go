//go:build unix

package localrt

import "syscall"

// freezeGroup stops every process of the group led by pid (Lambda freezes
// an idle execution environment). A stopped process still dies of SIGKILL.
func freezeGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGSTOP) }

// thawGroup continues a frozen group.
func thawGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGCONT) }
