//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/sms"
)

// One request, at most one text, end to end through the local SMS provider
// (Amazon SNS in the emulator, which records every text: /_offload/sms):
//   - 50 requests, each delivered twice, one of them also redelivered after a
//     throttled idempotency write → exactly 50 texts;
//   - invalid numbers → DLQ with their reason, no text;
//   - a burst of provider throttling → every request eventually sent once;
//   - a crash between the provider accepting and the record being completed
//     → no resend, reported in the DLQ;
//   - no log line holds a full destination number.
func TestSMSPipelineSendsEachRequestAtMostOnce(t *testing.T) {
	t.Parallel()
	stack.SkipUnlessLocal(t, "counting texts and injecting provider faults needs the local emulator")
	endpoint := testenv.Endpoint(t)
	run := stack.Unique("sms")
	var numbers []string
	number := func(i int) string { // distinct, well-formed UK mobile numbers
		n := fmt.Sprintf("+4474%08d", (time.Now().UnixNano()/1000+int64(i)*7919)%100000000)
		numbers = append(numbers, n)
		return n
	}
	request := func(id, to, body string) string {
		b, err := json.Marshal(sms.Request{RequestID: id, To: to, Body: body})
		require.NoError(t, err)
		return string(b)
	}
	sendAll := func(bodies []string) {
		for i := 0; i < len(bodies); i += 10 {
			stack.SendBatch(t, stack.Outputs.SMSQueueURL, bodies[i:min(i+10, len(bodies))]...)
		}
	}

	// 50 requests, each delivered twice; request 7's first idempotency write is throttled.
	want := map[string]bool{}  // bodies that must be sent exactly once
	twice := map[string]bool{} // of those, the ones queued as two copies
	var bodies []string
	for i := range 50 {
		text := fmt.Sprintf("%s code %d", run, i)
		want[text], twice[text] = true, true
		b := request(fmt.Sprintf("%s-%d", run, i), number(i), text)
		bodies = append(bodies, b, b)
	}
	testenv.MustInjectFault(t, testenv.Fault{Service: "dynamodb", Operation: "PutItem", Match: run + "-7\"",
		Error: &testenv.FaultError{Status: 400, Code: "ProvisionedThroughputExceededException", Message: "slow down"}})

	// A burst of provider throttling across ten more requests.
	burst := testenv.MustInjectFault(t, testenv.Fault{Service: "sns", Operation: "Publish", Match: run + "+burst", Count: 15,
		Error: &testenv.FaultError{Status: 400, Code: "Throttling", Message: "Rate exceeded"}})
	for i := range 10 {
		text := fmt.Sprintf("%s burst %d", run, i)
		want[text] = true
		bodies = append(bodies, request(fmt.Sprintf("%s-burst-%d", run, i), number(100+i), text))
	}
	sendAll(bodies)

	// Invalid numbers: one the sender refuses, one the provider refuses.
	badShape := request(run+"-bad-shape", "+12-34", run+" never sent 1")
	rejectedTo := number(200)
	testenv.MustInjectFault(t, testenv.Fault{Service: "sns", Operation: "Publish", Match: strings.TrimPrefix(rejectedTo, "+"), Count: -1,
		Error: &testenv.FaultError{Status: 400, Code: "InvalidParameter", Message: "Invalid parameter: PhoneNumber Reason: " + rejectedTo + " is not valid"}})
	rejected := request(run+"-rejected", rejectedTo, run+" never sent 2")
	stack.SendBatch(t, stack.Outputs.SMSQueueURL, badShape, rejected)

	// A crash: the provider accepts, then completing the record hangs past
	// the function's timeout and the runtime kills it. The fault hits the
	// UpdateItem that writes "completed", not the Start before the provider
	// call (a hang there is a crash before the send: resent, once).
	crashText := run + " crash window"
	crashID := run + "-crash"
	testenv.MustInjectFault(t, testenv.Fault{Service: "dynamodb", Operation: "UpdateItem", Match: crashID + "\"", Also: []string{`{"S":"completed"}`}, DelaySeconds: 10,
		Error: &testenv.FaultError{Status: 500, Code: "InternalServerError"}})
	crash := request(crashID, number(300), crashText)
	stack.Send(t, stack.Outputs.SMSQueueURL, crash)

	// Every wanted text exactly once.
	count := func() map[string]int {
		got := map[string]int{}
		for _, m := range testenv.SentSMS(t) {
			if strings.HasPrefix(m.Message, run+" ") {
				got[m.Message]++
			}
		}
		return got
	}
	// Every wanted text is sent, or — when throttling and a busy machine
	// spent the local 3-receive budget — dead-lettered by the processor on
	// its last receive with class retries-exhausted and never sent, or
	// moved to the DLQ by SQS's redrive policy without a class: a receive
	// whose answer was lost on the way to the poller counts against
	// maxReceiveCount though the function never saw it, and when that was
	// the last receive no processor could label the message (as on AWS).
	// Such a message may have been sent on an earlier receive (and its
	// delete's answer lost): at most once. Nothing is lost and nothing goes
	// out twice either way.
	exhausted, redriven := map[string]bool{}, map[string]bool{}
	scanDLQ := func() {
		// Every dead letter, not the first ten a receive returns: under load
		// (or with earlier runs' dead letters) there are more than ten.
		msgs, err := stack.QueueMessagesE(context.Background(), stack.Outputs.SMSDLQURL)
		require.NoError(t, err)
		for _, m := range msgs {
			class := aws.ToString(m.MessageAttributes[message.AttrFailureClass].StringValue)
			if class != message.ClassRetriesExhausted && class != "" {
				continue
			}
			var r sms.Request
			require.NoError(t, json.Unmarshal([]byte(aws.ToString(m.Body)), &r))
			if class == "" {
				redriven[r.Body] = true
			} else {
				exhausted[r.Body] = true
			}
		}
	}
	missing := func() []string {
		got := count()
		var out []string
		for text := range want {
			if got[text] == 0 && !exhausted[text] && !redriven[text] {
				out = append(out, text)
			}
		}
		sort.Strings(out)
		return out
	}
	if !assert.Eventually(t, func() bool { scanDLQ(); return len(missing()) == 0 }, 2*time.Minute, time.Second,
		"every request sent or dead-lettered with its reason") {
		// Say where the missing ones are: still queued, or dead-lettered
		// with which class (none: SQS's redrive policy moved them).
		dead, _ := stack.QueueMessagesE(context.Background(), stack.Outputs.SMSDLQURL)
		var classes []string
		for _, m := range dead {
			classes = append(classes, fmt.Sprintf("%.60s=%s", aws.ToString(m.Body), aws.ToString(m.MessageAttributes[message.AttrFailureClass].StringValue)))
		}
		queued, _ := stack.QueueMessagesE(context.Background(), stack.Outputs.SMSQueueURL)
		t.Fatalf("neither sent nor dead-lettered as retries-exhausted or by the redrive policy: %v; source queue holds %d visible; DLQ: %v", missing(), len(queued), classes)
	}

	// The crash is reported, not resent.
	dead := stack.WaitForDLQMessage(t, stack.Outputs.SMSDLQURL, func(b string) bool { return b == crash }, 90*time.Second)
	require.Equal(t, "unknown-outcome", aws.ToString(dead.MessageAttributes[message.AttrFailureClass].StringValue))
	require.Contains(t, aws.ToString(dead.MessageAttributes[message.AttrFailureReason].StringValue), "not resent")

	dead = stack.WaitForDLQMessage(t, stack.Outputs.SMSDLQURL, func(b string) bool { return b == badShape }, 30*time.Second)
	require.Equal(t, message.ClassValidation, aws.ToString(dead.MessageAttributes[message.AttrFailureClass].StringValue))
	require.Contains(t, aws.ToString(dead.MessageAttributes[message.AttrFailureReason].StringValue), "E.164")
	dead = stack.WaitForDLQMessage(t, stack.Outputs.SMSDLQURL, func(b string) bool { return b == rejected }, 30*time.Second)
	require.Equal(t, "rejected", aws.ToString(dead.MessageAttributes[message.AttrFailureClass].StringValue))
	require.Contains(t, aws.ToString(dead.MessageAttributes[message.AttrFailureReason].StringValue), "InvalidParameter")

	stack.WaitForQueueEmpty(t, stack.Outputs.SMSQueueURL, 90*time.Second)
	got := count()
	for text := range want {
		if exhausted[text] && twice[text] {
			// One copy may have sent while the other, held off by the
			// first's lease, spent its receives: still at most once.
			require.LessOrEqual(t, got[text], 1, "one copy dead-lettered as retries-exhausted, sent at most once: %q", text)
			continue
		}
		if exhausted[text] {
			require.Zero(t, got[text], "dead-lettered as retries-exhausted, so never sent: %q", text)
			continue
		}
		if redriven[text] {
			require.LessOrEqual(t, got[text], 1, "moved to the DLQ by the redrive policy, sent at most once: %q", text)
			continue
		}
		require.Equal(t, 1, got[text], "exactly once: %q", text)
	}
	t.Logf("%d requests wanted: %d dead-lettered as retries-exhausted, %d moved to the DLQ by the redrive policy, the rest sent once", len(want), len(exhausted), len(redriven))
	require.Equal(t, 1, got[crashText], "the crashed attempt's text went out once and never again")
	require.Zero(t, got[run+" never sent 1"])
	require.Zero(t, got[run+" never sent 2"])
	for text := range got {
		require.True(t, want[text] || text == crashText, "sent, but never asked for: %q", text)
	}
	fired, err := testenv.Fired(endpoint, burst.ID)
	require.NoError(t, err)
	require.Equal(t, 15, fired, "the burst really throttled")

	// No log line of the run holds a full destination number.
	raw, err := os.ReadFile(stack.RuntimeLog)
	require.NoError(t, err)
	for _, n := range numbers {
		require.NotContains(t, string(raw), strings.TrimPrefix(n, "+"), "a full number in the logs")
	}
	require.NotEmpty(t, functionLogs(t, "sms-sender"), "the sender did log")
}
