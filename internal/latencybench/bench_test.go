package latencybench

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func result(async50, async99, durable, sync, smsQ, smsSync time.Duration) Result {
	return Result{StoredOK: true, Stats: []Stats{
		{Endpoint: Endpoints[0], N: 10, P50: async50, P99: async99},
		{Endpoint: Endpoints[1], N: 10, P99: durable},
		{Endpoint: Endpoints[2], N: 10, P99: sync},
		{Endpoint: Endpoints[3], N: 10, P99: smsQ},
		{Endpoint: Endpoints[4], N: 10, P99: smsSync},
	}}
}

// The last line has exactly the fields, in its order, and parses
// back to the figures it was made from.
func TestLastLineFormatRoundTrips(t *testing.T) {
	r := result(310*time.Microsecond, 870*time.Microsecond, 12500*time.Microsecond, 9*time.Millisecond, 14*time.Millisecond, 1523114*time.Microsecond)
	line := r.LastLine()
	require.Equal(t, "latency: audit_async_p50_ms=0.310 audit_async_p99_ms=0.870 audit_durable_p99_ms=12.500 audit_sync_p99_ms=9.000 sms_enqueue_p99_ms=14.000 sms_sync_p99_ms=1523.114", line)
	got, err := ParseLastLine(line + "\n")
	require.NoError(t, err)
	require.Equal(t, map[string]float64{"audit_async_p50_ms": 0.31, "audit_async_p99_ms": 0.87, "audit_durable_p99_ms": 12.5,
		"audit_sync_p99_ms": 9, "sms_enqueue_p99_ms": 14, "sms_sync_p99_ms": 1523.114}, got)

	for _, bad := range []string{
		"latency: audit_async_p50_ms=0.3",
		strings.Replace(line, "audit_sync_p99_ms", "audit_sync_p50_ms", 1),
		strings.Replace(line, "=9.000", "=-1", 1),
		"x" + line,
	} {
		_, err := ParseLastLine(bad)
		require.Error(t, err, bad)
	}
}

func TestGoals(t *testing.T) {
	lines, err := result(300*time.Microsecond, 900*time.Microsecond, 0, 0, 20*time.Millisecond, 1500*time.Millisecond).Goals()
	require.NoError(t, err)
	require.Len(t, lines, 2)
	for _, l := range lines {
		require.True(t, strings.HasPrefix(l, "goal met: "), l)
	}

	_, err = result(300*time.Microsecond, 1100*time.Microsecond, 0, 0, 20*time.Millisecond, 1500*time.Millisecond).Goals()
	require.ErrorContains(t, err, "audit_async_p99_ms 1.100 <= 1")
	_, err = result(300*time.Microsecond, 900*time.Microsecond, 0, 0, 80*time.Millisecond, 1500*time.Millisecond).Goals()
	require.ErrorContains(t, err, "ratio 18.8")

	r := result(300*time.Microsecond, 900*time.Microsecond, 0, 0, 20*time.Millisecond, 1500*time.Millisecond)
	r.Stats[3].Errors, r.Stats[3].FirstError = 2, "/sms answered 503"
	_, err = r.Goals()
	require.ErrorContains(t, err, "2 of 10 requests failed")
	r.Stats[3].Errors, r.StoredOK, r.Stored = 0, false, "the audit queue holds 9 for 10"
	_, err = r.Goals()
	require.ErrorContains(t, err, "holds 9 for 10")
}

func TestPercentileIsNearestRank(t *testing.T) {
	d := make([]time.Duration, 1000)
	for i := range d {
		d[i] = time.Duration(i+1) * time.Millisecond
	}
	require.Equal(t, 500*time.Millisecond, percentile(d, 0.5))
	require.Equal(t, 990*time.Millisecond, percentile(d, 0.99))
	require.Equal(t, 999*time.Millisecond, percentile(d, 0.999))
	require.Equal(t, time.Duration(0), percentile(nil, 0.5))
}

// The mix is the same sequence of sizes for every endpoint of a kind, with
// ids of its own.
func TestMixIsTheSameForEveryEndpoint(t *testing.T) {
	a, b := newMix(7, false, 200, "audit_async"), newMix(7, false, 200, "audit_sync")
	for i := range a {
		require.Equal(t, len(a[i])-len("audit_async"), len(b[i])-len("audit_sync"), i)
		require.NotEqual(t, a[i], b[i])
	}
}

// The generator never sends early: sleepUntil returns only once its time has
// come, whether that is in the past, within the nanosleep stretch or beyond
// it (how late it may be is a measurement, reported as gen_lag_ms, not an
// assertion).
func TestSleepUntilNeverReturnsBeforeItsTime(t *testing.T) {
	t.Parallel()
	for _, ahead := range []time.Duration{-time.Millisecond, 0, 50 * time.Microsecond, 700 * time.Microsecond, 3 * time.Millisecond} {
		for range 20 {
			due := time.Now().Add(ahead)
			sleepUntil(due)
			require.False(t, time.Now().Before(due), "sleepUntil(now%+v) returned early", ahead)
		}
	}
}

// The floor line compares the buffered endpoint with the floor of the same
// run, and is left out when either was not measured.
func TestFloorLineComparesTheBufferedEndpointWithTheFloor(t *testing.T) {
	t.Parallel()
	r := result(700*time.Microsecond, 1500*time.Microsecond, time.Millisecond, time.Millisecond, time.Millisecond, time.Second)
	require.Empty(t, r.floorLine())
	r.Stats = append(r.Stats, Stats{Endpoint: Floor, N: 10, P50: 350 * time.Microsecond, P99: 600 * time.Microsecond})
	require.Equal(t, "floor: net/http that only answers, same generator and mix: p50 0.350 ms, p99 0.600 ms; POST /audit (buffered) is 2.00x it at p50 and 2.50x at p99, 0.900 ms more at p99", r.floorLine())
}

// What a queue holds is compared with the records answered for it by id: a
// lost record and a stranger fail the check, a record stored twice (the
// SDK's retry of a send whose answer was lost) is counted but does not.
func TestCountComparesRecordsByID(t *testing.T) {
	t.Parallel()
	want := []string{"a", "b", "c"}
	all := count(want, map[string]int{"a": 1, "b": 1, "c": 1})
	require.Equal(t, tally{Messages: 3, Want: 3}, all)
	require.True(t, all.ok())
	twice := count(want, map[string]int{"a": 2, "b": 1, "c": 3})
	require.Equal(t, tally{Messages: 6, Want: 3, Twice: 3}, twice)
	require.True(t, twice.ok())
	require.Equal(t, "6 messages for 3 records: 0 missing, 3 stored twice, 0 unknown", twice.String())
	// Three messages for three records, and still one lost.
	lost := count(want, map[string]int{"a": 2, "c": 1})
	require.Equal(t, tally{Messages: 3, Want: 3, Missing: 1, Twice: 1}, lost)
	require.False(t, lost.ok())
	stranger := count(want, map[string]int{"a": 1, "b": 1, "c": 1, "": 1})
	require.Equal(t, 1, stranger.Strangers)
	require.False(t, stranger.ok())
	require.Equal(t, "bench-x", bodyID(`{"messageId":"bench-x","auditText":"t"}`))
	require.Equal(t, "bench-y", bodyID(`{"requestId":"bench-y","to":"+14155552671","body":"b"}`))
}
