package chaos

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/dlq"
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

// The accounting reads the notifications as the notifications topic delivers
// them to SQS (the handler's JSON inside an SNS envelope) and tells named,
// named under an earlier dead letter, counted, and neither apart.
func TestNotificationAccounting(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	n := dlq.Notification{Environment: "local",
		Alarm: dlq.Alarm{Name: "p-sms-dlq-not-empty", State: dlq.StateAlarm, PreviousState: dlq.StateOK, ChangedAt: t0},
		Sample: &dlq.Sample{QueueName: "p-sms-dlq", Visible: 2, Messages: []dlq.SampledMessage{
			{MessageID: "dl-1", FailureReason: "sms request chaos-s-000001: outcome unknown, not resent: …", FailureClass: "unknown-outcome"},
			{MessageID: "dl-2", FailureReason: "sms request chaos-s-000002: outcome unknown, not resent: …", FailureClass: "unknown-outcome"},
		}}}
	inner, err := json.Marshal(n)
	require.NoError(t, err)
	env, err := json.Marshal(map[string]any{"Type": "Notification", "Message": string(inner), "Timestamp": t0.Add(time.Second)})
	require.NoError(t, err)
	parsed, ok := parseNotification(string(env))
	require.True(t, ok)
	require.Equal(t, "p-sms-dlq", parsed.Queue)
	require.Equal(t, 2, parsed.Visible)
	require.Len(t, parsed.Messages, 2)
	_, ok = parseNotification(`{"Message":"{\"kind\":\"something-else\"}"}`)
	require.False(t, ok)

	dls := []DeadLetter{
		{Kind: SMS, MessageID: "dl-1", RequestID: "chaos-s-000001", Arrived: t0.Add(-time.Second)},   // named
		{Kind: SMS, MessageID: "dl-9", RequestID: "chaos-s-000002", Arrived: t0.Add(time.Minute)},    // dl-2 redriven, died again
		{Kind: SMS, MessageID: "dl-3", RequestID: "chaos-s-000003", Arrived: t0.Add(-time.Second)},   // in the DLQ, not sampled
		{Kind: SMS, MessageID: "dl-4", RequestID: "chaos-s-000004", Arrived: t0.Add(time.Minute)},    // later, alarm already in ALARM
		{Kind: Audit, MessageID: "dl-1", RequestID: "chaos-a-000001", Arrived: t0.Add(-time.Second)}, // another DLQ
	}
	attribute(dls, []notification{parsed}, func(k Kind) string {
		if k == SMS {
			return "p-sms-dlq"
		}
		return "p-audit-dlq"
	})
	got := func(d DeadLetter) [3]bool { return [3]bool{d.Notified, d.RequestNamed, d.Counted} }
	require.Equal(t, [3]bool{true, false, true}, got(dls[0]))
	require.Equal(t, [3]bool{false, true, false}, got(dls[1]))
	require.Equal(t, [3]bool{false, false, true}, got(dls[2]))
	require.Equal(t, [3]bool{false, false, false}, got(dls[3]))
	require.Equal(t, [3]bool{false, false, false}, got(dls[4]))
}
