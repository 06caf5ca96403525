package localrt

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// TraceDaemon is an AWS X-Ray daemon running in local mode: functions send
// segments to Addr over UDP and it forwards them to the X-Ray API of the
// endpoint it was started with.
type TraceDaemon struct {
	// Addr is host:port for AWS_XRAY_DAEMON_ADDRESS (UDP and TCP).
	Addr string

	cmd    *exec.Cmd
	dir    string
	exited chan struct{}
}

// StartTraceDaemon starts the daemon binary at path in local mode (-o, no
// instance metadata), bound to 127.0.0.1 on a free port, sending segments to
// endpoint (empty: the X-Ray service of region) with the credentials of the
// current environment. Its log lines go to logs with the prefix
// "[xray-daemon] ".
func StartTraceDaemon(path, endpoint, region string, logs io.Writer) (*TraceDaemon, error) {
	port, err := freeUDPAndTCPPort()
	if err != nil {
		return nil, fmt.Errorf("start X-Ray daemon: %w", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	dir, err := os.MkdirTemp("", "offload-xray-")
	if err != nil {
		return nil, fmt.Errorf("start X-Ray daemon: %w", err)
	}
	cfgPath := filepath.Join(dir, "xray-daemon.yaml")
	cfg := fmt.Sprintf("Version: 2\nRegion: %q\nEndpoint: %q\nLocalMode: true\nSocket:\n  UDPAddress: %q\n  TCPAddress: %q\nLogging:\n  LogLevel: \"warn\"\n",
		region, endpoint, addr, addr)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("write X-Ray daemon config: %w", err)
	}
	sink := &logSink{w: logs}
	out := &lineWriter{sink: sink, prefix: "[xray-daemon] "}
	cmd := exec.Command(path, "-o", "-n", region, "-c", cfgPath, "-b", addr, "-t", addr, "-l", "warn")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = processAttrs()
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start X-Ray daemon %s (build it with `make xray-daemon`): %w", path, err)
	}
	d := &TraceDaemon{Addr: addr, cmd: cmd, dir: dir, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		out.flush()
		close(d.exited)
	}()
	// Ready when its TCP proxy answers.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return d, nil
		}
		select {
		case <-d.exited:
			os.RemoveAll(dir)
			return nil, fmt.Errorf("X-Ray daemon exited during start (%v)", cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.Stop()
			return nil, fmt.Errorf("X-Ray daemon not listening on %s after 10 s", addr)
		}
	}
}

// Stop ends the daemon (SIGTERM, then SIGKILL after a second) and removes
// its configuration.
func (d *TraceDaemon) Stop() {
	if d == nil {
		return
	}
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(time.Second):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.exited
	}
	os.RemoveAll(d.dir)
}

// freeUDPAndTCPPort finds a loopback port free for both UDP and TCP.
func freeUDPAndTCPPort() (int, error) {
	for range 20 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		t, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		u.Close()
		if err != nil {
			continue
		}
		t.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free port for both UDP and TCP on 127.0.0.1")
}
