package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	pkgmsg "github.com/offload/offload/pkg/message"
)

// Outcome of one request id.
type Outcome string

// Outcomes.
const (
	// OK: stored exactly once (audit) / sent exactly once (SMS).
	OK Outcome = "ok"
	// DeadLettered: not stored/sent, in a DLQ with its reason.
	DeadLettered Outcome = "dead-lettered"
	// Unknown: an SMS dead-lettered as unknown-outcome (reported, not resolved).
	Unknown Outcome = "unknown-outcome"
	// Lost: accepted by SQS, then neither stored/sent nor dead-lettered.
	Lost Outcome = "lost"
	// Duplicate: two audit items for one key, or two texts for one request id.
	Duplicate Outcome = "duplicate-effect"
	// NotAccepted: SQS never took it (the producer reported the failure).
	NotAccepted Outcome = "not-accepted"
)

// Verdict is what happened to one request id.
type Verdict struct {
	// Outcome is the verdict.
	Outcome Outcome
	// Effects is how many audit items / provider texts it had.
	Effects int
	// DLQClass is the failure class of its dead letter ("" when none;
	// "(none)" when the dead letter carries no reason).
	DLQClass string
}

// DeadLetter is one message found in a DLQ.
type DeadLetter struct {
	// Kind is the pipeline of the DLQ.
	Kind Kind
	// MessageID is its SQS id in the DLQ; RequestID the id in its body.
	MessageID, RequestID string
	// Class and Reason are its offload.failure-* attributes ("" when absent).
	Class, Reason string
	// ReceiveCount is its offload.receive-count, else the DLQ's own count.
	ReceiveCount int
	// Arrived is when it entered the DLQ (its SentTimestamp there).
	Arrived time.Time
	// Notified says whether a notification named it (its DLQ message id).
	Notified bool
	// RequestNamed says whether a notification named an earlier dead
	// letter of the same request (one a redrive then moved back, giving
	// the request's next dead letter a new id).
	RequestNamed bool
	// Counted says whether an ALARM notification for its DLQ was sent
	// after it arrived (it was among the messages the notification counted).
	Counted bool
}

// notification is what the campaign reads of one DLQ notification.
type notification struct {
	Queue     string    `json:"queue"`
	State     string    `json:"state"`
	ChangedAt time.Time `json:"changedAt"`
	Visible   int       `json:"messageCount"`
	InFlight  int       `json:"inFlight"`
	Messages  []struct {
		MessageID     string `json:"messageId"`
		FailureReason string `json:"failureReason"`
	} `json:"messages"`
}

// parseNotification reads an SNS-enveloped dlq-alarm-handler notification
// (the JSON form the notifications topic gives SQS subscribers); ok is false
// for anything else.
func parseNotification(body string) (notification, bool) {
	var env struct {
		Message   string    `json:"Message"`
		Timestamp time.Time `json:"Timestamp"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil || env.Message == "" {
		env.Message = body
	}
	var n notification
	var kind struct {
		Kind string `json:"kind"`
	}
	if json.Unmarshal([]byte(env.Message), &kind) != nil || kind.Kind != "offload.dlq-alarm" || json.Unmarshal([]byte(env.Message), &n) != nil {
		return notification{}, false
	}
	if !env.Timestamp.IsZero() {
		n.ChangedAt = env.Timestamp // when it was sent, after the sample
	}
	return n, true
}

// attribute marks each dead letter named, request-named or counted by the
// notifications.
func attribute(dls []DeadLetter, notes []notification, queueOf func(Kind) string) {
	for i := range dls {
		d := &dls[i]
		d.Notified, d.RequestNamed, d.Counted = false, false, false
		for _, n := range notes {
			if n.Queue != queueOf(d.Kind) {
				continue
			}
			for _, m := range n.Messages {
				switch {
				case m.MessageID == d.MessageID:
					d.Notified = true
				case d.RequestID != "" && strings.Contains(m.FailureReason, d.RequestID):
					d.RequestNamed = true
				}
			}
			if n.State == "ALARM" && n.Visible+n.InFlight > 0 && !d.Arrived.IsZero() && !n.ChangedAt.Before(d.Arrived) {
				d.Counted = true
			}
		}
	}
}

// Report is the campaign's accounting.
type Report struct {
	// Schedule is what was run.
	Schedule Schedule
	// Verdicts by request id.
	Verdicts map[string]Verdict
	// DeadLetters found in the DLQs at the end.
	DeadLetters []DeadLetter
	// Stuck are idempotency keys still in_progress after their lease.
	Stuck []string
	// Fired is how often each class actually hit (launcher, fake, runner).
	Fired map[Class]int
	// Killed is how many bootstrap processes were SIGKILLed.
	Killed int
	// Redrive is the redrive command's last line (or its failure).
	Redrive string
	// Notifications is how many DLQ notifications were read.
	Notifications int
	// UnknownReceived is how many unknown outcomes the provider did receive.
	UnknownReceived int
	// Duration is the campaign's wall time.
	Duration time.Duration
}

// Counters of the last line.
func (r *Report) count(o Outcome) int {
	n := 0
	for _, v := range r.Verdicts {
		if v.Outcome == o {
			n++
		}
	}
	return n
}

// Unreasoned is the number of dead letters without an offload failure class.
func (r *Report) Unreasoned() int {
	n := 0
	for _, d := range r.DeadLetters {
		if d.Class == "" {
			n++
		}
	}
	return n
}

// Failed says whether a guarantee was broken (the campaign exits non-zero).
func (r *Report) Failed() bool {
	return r.count(Lost) > 0 || r.count(Duplicate) > 0 || len(r.Stuck) > 0 || r.Unreasoned() > 0
}

// LastLine is the campaign's verdict line.
func (r *Report) LastLine() string {
	return fmt.Sprintf("chaos: seed=%d requests=%d faults=%d lost=%d duplicate_effects=%d stuck=%d unreasoned_dead_letters=%d unknown_outcomes=%d",
		r.Schedule.Seed, len(r.Schedule.Requests), len(r.Schedule.Faults), r.count(Lost), r.count(Duplicate), len(r.Stuck), r.Unreasoned(), r.count(Unknown))
}

func (r *runner) account(ctx context.Context, start time.Time) (*Report, error) {
	st := r.env.Stack
	rep := &Report{Schedule: r.sched, Verdicts: map[string]Verdict{}, Fired: map[Class]int{}}

	// Dead letters: hold every DLQ message while reading, then release them.
	for _, k := range []Kind{Audit, SMS} {
		url := st.Outputs.AuditDLQURL
		if k == SMS {
			url = st.Outputs.SMSDLQURL
		}
		dls, err := readDLQ(ctx, st.SQS, url, k)
		if err != nil {
			return nil, err
		}
		rep.DeadLetters = append(rep.DeadLetters, dls...)
	}
	// Notifications: the DLQ alarms are evaluated every alarm period (10 s
	// locally); read until every dead letter was named, or none came for
	// 20 s, or a minute has passed (this only feeds the report).
	var notes []notification
	queueOf := func(k Kind) string {
		if k == SMS {
			return queueName(st.Outputs.SMSDLQURL)
		}
		return queueName(st.Outputs.AuditDLQURL)
	}
	allNamed := func() bool {
		attribute(rep.DeadLetters, notes, queueOf)
		return !slices.ContainsFunc(rep.DeadLetters, func(d DeadLetter) bool { return !d.Notified })
	}
	last, until := time.Now(), time.Now().Add(time.Minute)
	for !allNamed() && time.Since(last) < 20*time.Second && time.Now().Before(until) {
		out, err := st.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(r.env.Notifications.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 2})
		if err != nil {
			return nil, fmt.Errorf("read notifications: %w", err)
		}
		for _, m := range out.Messages {
			if n, ok := parseNotification(aws.ToString(m.Body)); ok {
				notes = append(notes, n)
				rep.Notifications++
			}
			_, _ = st.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(r.env.Notifications.QueueURL), ReceiptHandle: m.ReceiptHandle})
			last = time.Now()
		}
	}
	dlqBy := map[string]DeadLetter{}
	for _, d := range rep.DeadLetters {
		if prev, ok := dlqBy[d.RequestID]; !ok || prev.Class == "" {
			dlqBy[d.RequestID] = d
		}
	}

	// Audit items by messageId.
	items := map[string]int{}
	if err := scan(ctx, st.DynamoDB, st.Outputs.AuditTableName, func(it map[string]ddbtypes.AttributeValue) {
		if s, ok := it["messageId"].(*ddbtypes.AttributeValueMemberS); ok {
			if t, ok := it["auditText"].(*ddbtypes.AttributeValueMemberS); ok && t.Value == auditText(s.Value) {
				items[s.Value]++
			}
		}
	}); err != nil {
		return nil, err
	}
	// Idempotency records: stuck = in_progress after the lease.
	now := time.Now().UnixMilli()
	if err := scan(ctx, st.DynamoDB, st.Outputs.SMSIdempotencyTableName, func(it map[string]ddbtypes.AttributeValue) {
		status, _ := it["status"].(*ddbtypes.AttributeValueMemberS)
		lease, _ := it["lease_until"].(*ddbtypes.AttributeValueMemberN)
		id, _ := it["id"].(*ddbtypes.AttributeValueMemberS)
		if status == nil || status.Value != "in_progress" || lease == nil {
			return
		}
		if until, err := strconv.ParseInt(lease.Value, 10, 64); err == nil && until < now {
			key := "?"
			if id != nil {
				key = id.Value
			}
			rep.Stuck = append(rep.Stuck, key)
		}
	}); err != nil {
		return nil, err
	}
	texts := map[string]int{}
	for _, a := range r.env.Twilio.Accepted() {
		texts[a.Key]++
	}

	r.mu.Lock()
	accepted := r.accepted
	rejected := slices.Clone(r.rejected)
	rep.Killed, rep.Redrive = r.killed, r.redriveOK
	rep.Fired[DLQRedrive] = r.fired[DLQRedrive]
	launcher := r.launcher
	r.mu.Unlock()

	for _, q := range r.sched.Requests {
		effects := items[q.ID]
		if q.Kind == SMS {
			effects = texts[q.ID]
		}
		var dl *DeadLetter
		if d, ok := dlqBy[q.ID]; ok {
			dl = &d
		}
		v := Classify(q.Kind, effects, dl, accepted[q.ID] == 0 && slices.Contains(rejected, q.ID))
		if v.Outcome == Unknown && v.Effects > 0 {
			rep.UnknownReceived++
		}
		rep.Verdicts[q.ID] = v
	}

	// What fired: launcher counters, the fake's, the runner's.
	if faults, err := r.faults.List(ctx); err == nil {
		for _, f := range faults {
			if c, ok := launcher[f.ID]; ok && f.Fired > 0 {
				rep.Fired[c]++
			}
		}
	}
	for m, n := range r.env.Twilio.Fired() {
		switch m {
		case "accept-then-500":
			rep.Fired[ProviderAccept500] += n
		case "accept-then-hang":
			rep.Fired[ProviderAcceptTimeout] += n
		case "throttle":
			rep.Fired[ProviderThrottle] += n
		}
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

func readDLQ(ctx context.Context, c *sqs.Client, url string, k Kind) ([]DeadLetter, error) {
	var out []DeadLetter
	var handles []*string
	defer func() {
		for _, h := range handles {
			_, _ = c.ChangeMessageVisibility(context.WithoutCancel(ctx), &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: h, VisibilityTimeout: 0})
		}
	}()
	seen := map[string]bool{}
	for empty := 0; empty < 2; {
		res, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, VisibilityTimeout: 120,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		if err != nil {
			return nil, fmt.Errorf("read DLQ %s: %w", url, err)
		}
		if len(res.Messages) == 0 {
			empty++
			continue
		}
		empty = 0
		for _, m := range res.Messages {
			handles = append(handles, m.ReceiptHandle)
			if seen[aws.ToString(m.MessageId)] {
				continue
			}
			seen[aws.ToString(m.MessageId)] = true
			d := DeadLetter{Kind: k, MessageID: aws.ToString(m.MessageId)}
			if ms, err := strconv.ParseInt(m.Attributes[string(sqstypes.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
				d.Arrived = time.UnixMilli(ms)
			}
			var b struct {
				MessageID string `json:"messageId"`
				RequestID string `json:"requestId"`
			}
			_ = json.Unmarshal([]byte(aws.ToString(m.Body)), &b)
			d.RequestID = b.MessageID
			if k == SMS {
				d.RequestID = b.RequestID
			}
			attr := func(n string) string {
				if a, ok := m.MessageAttributes[n]; ok {
					return aws.ToString(a.StringValue)
				}
				return ""
			}
			d.Class, d.Reason = attr(pkgmsg.AttrFailureClass), attr(pkgmsg.AttrFailureReason)
			if d.ReceiveCount, err = strconv.Atoi(attr(pkgmsg.AttrReceiveCount)); err != nil {
				d.ReceiveCount, _ = strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
			}
			out = append(out, d)
		}
	}
	return out, nil
}

func scan(ctx context.Context, c *dynamodb.Client, table string, each func(map[string]ddbtypes.AttributeValue)) error {
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("scan %s: %w", table, err)
		}
		for _, it := range page.Items {
			each(it)
		}
	}
	return nil
}

// Print writes the per-class table, the dead letters by reason class, and
// the verdict line last.
func (r *Report) Print(w io.Writer) {
	s := r.Schedule
	fmt.Fprintf(w, "\nchaos: %d requests (%d audit, %d sms), schedule %s, %s\n", len(s.Requests), s.Count(Audit), s.Count(SMS), s.Digest(), r.Duration.Round(time.Second))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FAULT CLASS\tINJECTED\tFIRED\tOK\tDEAD-LETTERED\tUNKNOWN\tLOST\tDUPLICATE")
	inj := s.Injected()
	targets := map[Class][]string{}
	for _, f := range s.Faults {
		if f.Target != "" {
			targets[f.Class] = append(targets[f.Class], f.Target)
		}
	}
	row := func(name string, injected, fired string, ids []string) {
		c := map[Outcome]int{}
		for _, id := range ids {
			c[r.Verdicts[id].Outcome]++
		}
		if ids == nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\t-\t-\t-\t-\n", name, injected, fired)
			return
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", name, injected, fired, c[OK], c[DeadLettered], c[Unknown], c[Lost], c[Duplicate])
	}
	for _, c := range Classes {
		row(string(c), strconv.Itoa(inj[c]), strconv.Itoa(r.Fired[c]), targets[c])
	}
	var retried, all []string
	for _, q := range s.Requests {
		all = append(all, q.ID)
		if q.Retry {
			retried = append(retried, q.ID)
		}
	}
	row("producer-retry (same key twice)", strconv.Itoa(len(retried)), "-", retried)
	row("all requests", "-", "-", all)
	tw.Flush()
	if r.Killed > 0 {
		fmt.Fprintf(w, "bootstrap processes SIGKILLed: %d\n", r.Killed)
	}
	fmt.Fprintf(w, "dlq redrive: %s\n", r.Redrive)

	classes := map[string]int{}
	notified, requestNamed, counted, neither := 0, 0, 0, 0
	for _, d := range r.DeadLetters {
		k := string(d.Kind) + " " + d.Class
		if d.Class == "" {
			k = string(d.Kind) + " (no reason: receive count " + strconv.Itoa(d.ReceiveCount) + ")"
		}
		classes[k]++
		switch {
		case d.Notified:
			notified++
		case d.RequestNamed:
			requestNamed++
		case d.Counted:
			counted++
		default:
			neither++
		}
	}
	keys := make([]string, 0, len(classes))
	for k := range classes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(w, "dead letters: %d", len(r.DeadLetters))
	for _, k := range keys {
		fmt.Fprintf(w, "; %s: %d", k, classes[k])
	}
	fmt.Fprintf(w, "\ndead letters named in a DLQ notification: %d of %d\n", notified, len(r.DeadLetters))
	fmt.Fprintf(w, "dead letters named or counted: %d of %d (%d notification(s) read): named %d; request named under an earlier dead letter (redriven since) %d; counted (in the DLQ when an ALARM notification gave its count) %d; neither (arrived after the last notification, the alarm already in ALARM) %d\n",
		notified+requestNamed+counted, len(r.DeadLetters), r.Notifications, notified, requestNamed, counted, neither)
	fmt.Fprintf(w, "unknown outcomes: %d, of which the provider received %d\n", r.count(Unknown), r.UnknownReceived)
	if n := r.count(NotAccepted); n > 0 {
		fmt.Fprintf(w, "not accepted by SQS (reported to the producer): %d\n", n)
	}
	for _, o := range []Outcome{Lost, Duplicate} {
		var ids []string
		for id, v := range r.Verdicts {
			if v.Outcome == o {
				ids = append(ids, fmt.Sprintf("%s(effects=%d,dlq=%s)", id, v.Effects, v.DLQClass))
			}
		}
		sort.Strings(ids)
		if len(ids) > 0 {
			fmt.Fprintf(w, "%s: %s\n", o, strings.Join(ids[:min(len(ids), 20)], " "))
		}
	}
	var bare []string
	for _, d := range r.DeadLetters {
		if d.Class == "" {
			bare = append(bare, fmt.Sprintf("%s(%s,receives=%d)", d.RequestID, r.Verdicts[d.RequestID].Outcome, d.ReceiveCount))
		}
	}
	sort.Strings(bare)
	if len(bare) > 0 {
		fmt.Fprintf(w, "unreasoned dead letters: %s\n", strings.Join(bare[:min(len(bare), 20)], " "))
	}
	if len(r.Stuck) > 0 {
		fmt.Fprintf(w, "stuck leases: %s\n", strings.Join(r.Stuck[:min(len(r.Stuck), 20)], " "))
	}
	fmt.Fprintln(w, r.LastLine())
}

// Classify is the verdict on one request id of kind k: effects is how many
// audit items (with the text sent) or provider texts it had, dl its dead
// letter (nil: none), notAccepted whether SQS never took it.
func Classify(k Kind, effects int, dl *DeadLetter, notAccepted bool) Verdict {
	v := Verdict{Effects: effects}
	if dl != nil {
		v.DLQClass = dl.Class
		if v.DLQClass == "" {
			v.DLQClass = "(none)"
		}
	}
	switch {
	case effects > 1:
		v.Outcome = Duplicate
	case k == SMS && dl != nil && dl.Class == pkgmsg.ClassUnknownOutcome:
		v.Outcome = Unknown
	case effects == 1:
		v.Outcome = OK
	case dl != nil:
		v.Outcome = DeadLettered
	case notAccepted:
		v.Outcome = NotAccepted
	default:
		v.Outcome = Lost
	}
	return v
}

// queueName is the last path element of a queue URL.
func queueName(url string) string {
	return url[strings.LastIndex(url, "/")+1:]
}
