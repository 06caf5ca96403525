package chaos

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	unknown := &DeadLetter{Class: "unknown-outcome"}
	rejected := &DeadLetter{Class: "rejected"}
	bare := &DeadLetter{}
	for _, c := range []struct {
		kind        Kind
		effects     int
		dl          *DeadLetter
		notAccepted bool
		want        Outcome
		class       string
	}{
		{Audit, 1, nil, false, OK, ""},
		{Audit, 2, nil, false, Duplicate, ""},
		{Audit, 0, rejected, false, DeadLettered, "rejected"},
		{Audit, 0, bare, false, DeadLettered, "(none)"},
		{Audit, 0, nil, false, Lost, ""},
		{Audit, 0, nil, true, NotAccepted, ""},
		{Audit, 1, rejected, false, OK, "rejected"}, // stored, and a stale dead-letter copy
		{SMS, 1, unknown, false, Unknown, "unknown-outcome"},
		{SMS, 0, unknown, false, Unknown, "unknown-outcome"},
		{SMS, 2, unknown, false, Duplicate, "unknown-outcome"}, // two texts beat any report
		{SMS, 0, nil, false, Lost, ""},
	} {
		v := Classify(c.kind, c.effects, c.dl, c.notAccepted)
		require.Equal(t, c.want, v.Outcome, "%+v", c)
		require.Equal(t, c.class, v.DLQClass, "%+v", c)
	}
}

// The verdict line is the last line, exactly in the documented shape, and
// any lost, duplicate, stuck or unreasoned dead letter fails the run while
// unknown outcomes do not.
func TestReportLastLineAndFailure(t *testing.T) {
	s := NewSchedule(1, 20, 20)
	rep := &Report{Schedule: s, Verdicts: map[string]Verdict{}, Fired: map[Class]int{}}
	for _, q := range s.Requests {
		rep.Verdicts[q.ID] = Verdict{Outcome: OK, Effects: 1}
	}
	rep.Verdicts[s.Requests[0].ID] = Verdict{Outcome: Unknown}
	rep.DeadLetters = []DeadLetter{{Kind: SMS, Class: "unknown-outcome", RequestID: s.Requests[0].ID}}
	require.False(t, rep.Failed())
	var b bytes.Buffer
	rep.Print(&b)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Regexp(t, `^chaos: seed=1 requests=40 faults=\d+ lost=0 duplicate_effects=0 stuck=0 unreasoned_dead_letters=0 unknown_outcomes=1$`, lines[len(lines)-1])

	rep.DeadLetters = append(rep.DeadLetters, DeadLetter{Kind: Audit})
	require.True(t, rep.Failed())
	rep.DeadLetters = rep.DeadLetters[:1]
	rep.Stuck = []string{"x"}
	require.True(t, rep.Failed())
	rep.Stuck = nil
	rep.Verdicts[s.Requests[1].ID] = Verdict{Outcome: Lost}
	require.True(t, rep.Failed())
	require.Contains(t, rep.LastLine(), " lost=1 ")
}
