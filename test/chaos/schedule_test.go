package chaos

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

// The same seed replays the same schedule (requests, bursts, faults), and the
// digest says so; another seed draws another one.
func TestScheduleIsDeterministic(t *testing.T) {
	a, b := NewSchedule(42, 1000, 300), NewSchedule(42, 1000, 300)
	require.True(t, reflect.DeepEqual(a, b))
	require.Equal(t, a.Digest(), b.Digest())
	c := NewSchedule(43, 1000, 300)
	require.NotEqual(t, a.Digest(), c.Digest())
	require.NotEqual(t, a.Faults, c.Faults)
}

// A full run: ≥ 1,300 requests, ≥ 100 faults, ≥ 10 % of the writes faulted
// by DynamoDB throttling or 5xx, every class present, one fault per request,
// one redrive.
func TestFullScheduleShape(t *testing.T) {
	s := NewSchedule(DefaultSeed, 1000, 300)
	require.Equal(t, 1300, s.Count(""))
	require.GreaterOrEqual(t, len(s.Faults), 100)
	inj := s.Injected()
	for _, c := range Classes {
		require.Positive(t, inj[c], c)
	}
	require.Equal(t, 1, inj[DLQRedrive])
	require.GreaterOrEqual(t, float64(inj[DDBThrottle]+inj[DDB5xx]+inj[DDBCommitLost]), 0.10*1300)
	seen := map[string]bool{}
	for _, f := range s.Faults {
		if f.Target == "" {
			continue
		}
		require.False(t, seen[f.Target], "two faults on %s", f.Target)
		seen[f.Target] = true
	}
	sum := 0
	for _, b := range s.Bursts {
		sum += b
	}
	require.Equal(t, 1300, sum)
	require.Len(t, s.PausesMS, len(s.Bursts))
}

// The short run of make test: ≥ 200 requests and every class at least once
// (request-level classes twice), for any seed.
func TestShortScheduleHasEveryClass(t *testing.T) {
	for seed := range uint64(50) {
		s := NewSchedule(seed, ShortAudit, ShortSMS)
		require.GreaterOrEqual(t, s.Count(""), 200)
		inj := s.Injected()
		for _, c := range Classes {
			want := 2
			if c == SQSDuplicate || c == DLQRedrive {
				want = 1
			}
			require.GreaterOrEqual(t, inj[c], want, "seed %d: %s", seed, c)
		}
	}
}

// IDs have one length, so a fault matching one ID never matches another.
func TestIDsDoNotContainEachOther(t *testing.T) {
	s := NewSchedule(1, 1000, 300)
	n := len(s.Requests[0].ID)
	for _, r := range s.Requests {
		require.Len(t, r.ID, n)
	}
}
