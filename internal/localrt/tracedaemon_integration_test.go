//go:build integration

package localrt

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/logging/loggingtest"
)

// The daemon the runtime starts forwards segments to the emulator's X-Ray
// API, where tests read traces back.
func TestTraceDaemonForwardsSegmentsToTheEmulator(t *testing.T) {
	t.Parallel()
	cfg := testenv.AWSConfig(t)
	bin := filepath.Join(t.TempDir(), "xray-daemon")
	build := exec.Command("go", "build", "-o", bin, "github.com/aws/aws-xray-daemon/daemon")
	build.Dir = filepath.Join("..", "..", "tools")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "build the X-Ray daemon from tools/go.mod: %s", out)

	logs := &loggingtest.Buffer{}
	d, err := StartTraceDaemon(bin, testenv.Endpoint(t), cfg.Region, logs)
	require.NoError(t, err)
	t.Cleanup(d.Stop)

	now := time.Now()
	traceID := fmt.Sprintf("1-%08x-%024x", now.Unix(), now.UnixNano()&0xffffffffffff)
	segment := fmt.Sprintf(`{"name":"localrt-test","id":"70de5b6f19ff9a0a","trace_id":%q,"start_time":%f,"end_time":%f}`,
		traceID, float64(now.UnixNano())/1e9, float64(now.Add(5*time.Millisecond).UnixNano())/1e9)
	conn, err := net.Dial("udp", d.Addr)
	require.NoError(t, err)
	_, err = conn.Write([]byte("{\"format\": \"json\", \"version\": 1}\n" + segment))
	require.NoError(t, err)
	require.NoError(t, conn.Close())

	client := xray.NewFromConfig(cfg)
	require.Eventually(t, func() bool {
		got, err := client.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{traceID}})
		return err == nil && len(got.Traces) == 1 && aws.ToString(got.Traces[0].Id) == traceID
	}, 15*time.Second, 200*time.Millisecond, "trace %s not in the emulator; daemon log:\n%s", traceID, logs.String())

	pid := d.cmd.Process.Pid
	d.Stop()
	require.Error(t, exec.Command("kill", "-0", fmt.Sprint(pid)).Run(), "the daemon is gone after Stop")
	_, err = os.Stat(d.dir)
	require.True(t, os.IsNotExist(err), "its config is removed")
}
