package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/offload/offload/internal/sdkconfig"
	"github.com/offload/offload/internal/tfoutputs"
	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/dlq"
	"github.com/offload/offload/pkg/logging"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/producer"
	"github.com/offload/offload/pkg/sms"
	"github.com/offload/offload/pkg/sms/phone"
)

type app struct {
	outputsPath    string
	stdout, stderr io.Writer

	out *tfoutputs.Outputs
	cfg *aws.Config
}

// outputs reads the environment's outputs once.
func (a *app) outputs() (tfoutputs.Outputs, error) {
	if a.out == nil {
		o, err := tfoutputs.Read(a.outputsPath)
		if err != nil {
			return tfoutputs.Outputs{}, fmt.Errorf("%w (run `make run`, or pass --outputs / OFFLOAD_OUTPUTS_FILE)", err)
		}
		a.out = &o
	}
	return *a.out, nil
}

func (a *app) aws(ctx context.Context) (aws.Config, error) {
	if a.cfg == nil {
		cfg, err := sdkconfig.Load(ctx)
		if err != nil {
			return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
		}
		a.cfg = &cfg
	}
	return *a.cfg, nil
}

func (a *app) flags(name, args, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		fmt.Fprintf(a.stderr, "Usage: offload %s %s\n\n%s\n\nFlags:\n", name, args, about)
		fs.PrintDefaults()
	}
	return fs
}

func (a *app) publisher(ctx context.Context, queueKey, typ string) (*producer.Publisher, error) {
	o, err := a.outputs()
	if err != nil {
		return nil, err
	}
	url, err := o.Need(queueKey)
	if err != nil {
		return nil, err
	}
	cfg, err := a.aws(ctx)
	if err != nil {
		return nil, err
	}
	opts := []producer.Option{producer.WithDefaultType(typ, producer.DefaultVersion)}
	// The deployed queues' size limit, when the outputs say it.
	if n := o.QueueMaxMessageSize[strings.TrimSuffix(queueKey, "_queue_url")]; n > 0 {
		opts = append(opts, producer.WithMaxMessageBytes(n))
	}
	return producer.New(sqs.NewFromConfig(cfg), url, opts...)
}

// publish sends body under the idempotency key key, typed typ, on the queue
// the outputs name queueKey, and returns SQS's answer and the queue's URL.
func (a *app) publish(ctx context.Context, queueKey, typ string, body []byte, key string) (producer.Result, string, error) {
	p, err := a.publisher(ctx, queueKey, typ)
	if err != nil {
		return producer.Result{}, "", err
	}
	res, err := p.Publish(ctx, producer.Message{Body: string(body), IdempotencyKey: key})
	if err != nil {
		return producer.Result{}, "", fmt.Errorf("send %s %s: %w", typ, key, err)
	}
	return res, p.QueueURL(), nil
}

func (a *app) sendAudit(ctx context.Context, args []string) error {
	fs := a.flags("send audit", "--text TEXT [--id ID] [--time RFC3339]",
		"Enqueues one audit record on the environment's audit queue, as the article's AuditMessage JSON.")
	text := fs.String("text", "", "what happened (required)")
	id := fs.String("id", "", "the record's messageId, its idempotency key (default: a new UUID)")
	at := fs.String("time", "", "when it happened, RFC 3339 (default: now)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*text) == "" {
		fs.Usage()
		return errors.New("--text is required")
	}
	m := audit.Message{MessageID: *id, AuditText: *text, AuditTime: time.Now().UTC()}
	if m.MessageID == "" {
		m.MessageID = producer.NewIdempotencyKey()
	}
	if *at != "" {
		t, err := audit.ParseTime(*at)
		if err != nil {
			return err
		}
		m.AuditTime = t
	}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := audit.Decode(body); err != nil {
		return err
	}
	res, queueURL, err := a.publish(ctx, "audit_queue_url", message.TypeAudit, body, m.MessageID)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "sent audit record %s as SQS message %s to %s\n", m.MessageID, res.MessageID, queueURL)
	return nil
}

func (a *app) sendSMS(ctx context.Context, args []string) error {
	fs := a.flags("send sms", "--to NUMBER --body TEXT [--sender ID] [--region CC] [--id ID]",
		"Enqueues one SMS request on the environment's sms queue. The number is parsed and validated\n"+
			"against the numbering plan first; national formats need --region.")
	to := fs.String("to", "", "destination, international (+44 7400 123456) or national with --region (required)")
	body := fs.String("body", "", "the text (required)")
	sender := fs.String("sender", "", "alphanumeric sender id or E.164 number (default: the provider's)")
	region := fs.String("region", "", "ISO region for national numbers, e.g. GB")
	id := fs.String("id", "", "request id, the idempotency key (default: a new UUID)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to == "" || *body == "" {
		fs.Usage()
		return errors.New("--to and --body are required")
	}
	if *id == "" {
		*id = producer.NewIdempotencyKey()
	}
	req, err := phone.NewRequest(*id, *to, *body, *sender, *region)
	if err != nil {
		return err
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return err
	}
	res, _, err := a.publish(ctx, "sms_queue_url", message.TypeSMS, payload, req.RequestID)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "sent sms request %s to %s as SQS message %s\n", req.RequestID, sms.MaskNumber(req.To), res.MessageID)
	return nil
}

// dlqArgs parses a dlq command's flags and its one <queue> argument, and
// resolves the queue.
func (a *app) dlqArgs(ctx context.Context, fs *flag.FlagSet, args []string) (*sqs.Client, target, error) {
	if err := parseInterspersed(fs, args); err != nil {
		return nil, target{}, err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return nil, target{}, errors.New("one <queue> is required")
	}
	cfg, err := a.aws(ctx)
	if err != nil {
		return nil, target{}, err
	}
	client := sqs.NewFromConfig(cfg)
	t, err := a.resolveDLQ(ctx, client, fs.Arg(0))
	return client, t, err
}

// target is a DLQ and the queue its messages came from.
type target struct {
	name       string
	dlq, owner dlq.Queue
}

// resolveDLQ turns a <queue> argument — a pipeline name from the outputs
// (audit, sms), a queue name or a queue URL — into the DLQ and its source.
func (a *app) resolveDLQ(ctx context.Context, client *sqs.Client, arg string) (target, error) {
	var t target
	if o, err := a.outputs(); err == nil {
		if url, ok := o.Text(arg + "_dlq_url"); ok {
			text := func(name string) string { v, _ := o.Text(name); return v }
			t.dlq = dlq.Queue{URL: url, ARN: text(arg + "_dlq_arn")}
			t.owner = dlq.Queue{URL: text(arg + "_queue_url"), ARN: text(arg + "_queue_arn")}
		}
	} else if !strings.Contains(arg, "/") && !strings.Contains(arg, "-") {
		return t, err
	}
	if t.dlq.URL == "" {
		url := arg
		if !strings.Contains(arg, "://") {
			out, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(arg)})
			if err != nil {
				return t, fmt.Errorf("find queue %s: %w", arg, err)
			}
			url = aws.ToString(out.QueueUrl)
		}
		t.dlq.URL = url
	}
	t.name = t.dlq.URL[strings.LastIndex(t.dlq.URL, "/")+1:]
	if t.dlq.ARN == "" {
		arn, err := queueARN(ctx, client, t.dlq.URL)
		if err != nil {
			return t, err
		}
		t.dlq.ARN = arn
	}
	if t.owner.URL == "" {
		src, err := client.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: aws.String(t.dlq.URL)})
		if err == nil && len(src.QueueUrls) > 0 {
			t.owner.URL = src.QueueUrls[0]
		}
	}
	if t.owner.URL != "" && t.owner.ARN == "" {
		arn, err := queueARN(ctx, client, t.owner.URL)
		if err != nil {
			return t, err
		}
		t.owner.ARN = arn
	}
	return t, nil
}

func queueARN(ctx context.Context, client *sqs.Client, url string) (string, error) {
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", fmt.Errorf("get ARN of %s: %w", url, err)
	}
	return out.Attributes["QueueArn"], nil
}

func (a *app) dlqPeek(ctx context.Context, args []string) error {
	fs := a.flags("dlq peek", "[-n N] [--json] <queue>",
		"Shows what a dead-letter queue holds — ids, receive counts, failure reasons, ages —\n"+
			"without consuming it (messages are hidden for seconds, then made visible again).\n"+
			"<queue> is a pipeline name from the outputs (audit, sms), a queue name or a URL.")
	n := fs.Int("n", 10, "how many messages to sample")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	client, t, err := a.dlqArgs(ctx, fs, args)
	if err != nil {
		return err
	}
	s, err := dlq.NewSampler(client, 5*time.Second).SampleURL(ctx, t.name, t.dlq.URL, *n)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(dlq.Notification{Alarm: dlq.Alarm{Name: "peek", State: dlq.StateAlarm}, Sample: &s})
	}
	fmt.Fprintf(a.stdout, "%s: %d message(s) waiting, %d in flight, oldest sampled %s old\n", s.QueueName, s.Visible, s.InFlight, s.OldestAge)
	if len(s.Messages) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MESSAGE ID\tRECEIVES\tCLASS\tAGE\tBYTES\tREASON")
	for _, m := range s.Messages {
		reason := logging.Mask(m.Reason()) // a reason names no payload data, but masked all the same
		age := "?"
		if !m.SentAt.IsZero() {
			age = time.Since(m.SentAt).Truncate(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\n", m.MessageID, m.ReceiveCount, dash(m.FailureClass), age, m.BodyBytes, reason)
	}
	return tw.Flush()
}

func (a *app) dlqRedrive(ctx context.Context, args []string) error {
	fs := a.flags("dlq redrive", "[--rate N] [--to URL] [--mover] <queue>",
		"Moves every message of a dead-letter queue back to its source queue, once.\n"+
			"Uses SQS's StartMessageMoveTask where the API exists and follows it to the end;\n"+
			"elsewhere (the local emulator) it receives, re-sends with all attributes and deletes\n"+
			"only what was sent. Fix the cause first: redriven messages are processed again.")
	rate := fs.Float64("rate", 0, "messages per second at most (0: as fast as SQS allows)")
	to := fs.String("to", "", "destination queue URL (default: the DLQ's source queue)")
	mover := fs.Bool("mover", false, "skip StartMessageMoveTask and use the receive/re-send/delete mover")
	client, t, err := a.dlqArgs(ctx, fs, args)
	if err != nil {
		return err
	}
	if *to != "" {
		arn, err := queueARN(ctx, client, *to)
		if err != nil {
			return err
		}
		t.owner = dlq.Queue{URL: *to, ARN: arn}
	}
	if t.owner.URL == "" {
		return fmt.Errorf("cannot tell where %s's messages came from: pass --to URL", t.name)
	}
	p, err := dlq.Redrive(ctx, client, t.dlq, t.owner, dlq.RedriveOptions{Rate: *rate, ForceMover: *mover,
		Progress: a.progress()})
	fmt.Fprintln(a.stderr)
	if err != nil {
		return fmt.Errorf("redrive %s (moved %d before stopping): %w", t.name, p.Moved, err)
	}
	fmt.Fprintf(a.stdout, "moved %d message(s) from %s to %s (%s)\n", p.Moved, t.name, t.owner.URL[strings.LastIndex(t.owner.URL, "/")+1:], p.Method)
	return nil
}

// progress draws the redrive's progress bar on stderr: redrawn in place at
// most ten times a second on a terminal, a line a second otherwise (a log).
func (a *app) progress() func(dlq.Progress) {
	tty := false
	if f, ok := a.stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	every, prefix, suffix := time.Second, "", "\n"
	if tty {
		every, prefix, suffix = 100*time.Millisecond, "\r", ""
	}
	var last time.Time
	return func(p dlq.Progress) {
		if !p.Done && time.Since(last) < every {
			return
		}
		last = time.Now()
		fmt.Fprint(a.stderr, prefix+progressBar(p)+suffix)
	}
}

func progressBar(p dlq.Progress) string {
	const width = 30
	total := max(p.Total, p.Moved)
	filled := width
	if total > 0 {
		filled = int(int64(width) * p.Moved / total)
	}
	s := fmt.Sprintf("[%s%s] %d/%d moved (%s)", strings.Repeat("#", filled), strings.Repeat("-", width-filled), p.Moved, total, p.Method)
	if p.Failed > 0 {
		s += fmt.Sprintf(", %d failed", p.Failed)
	}
	return s
}

func (a *app) auditGet(ctx context.Context, args []string) error {
	fs := a.flags("audit get", "<messageId>", "Prints the audit items stored under a messageId (JSON, one per line).")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("one <messageId> is required")
	}
	o, err := a.outputs()
	if err != nil {
		return err
	}
	table, err := o.Need("audit_table_name")
	if err != nil {
		return err
	}
	cfg, err := a.aws(ctx)
	if err != nil {
		return err
	}
	out, err := dynamodb.NewFromConfig(cfg).Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("#id = :id"),
		ExpressionAttributeNames:  map[string]string{"#id": audit.AttrMessageID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: fs.Arg(0)}},
	})
	if err != nil {
		return fmt.Errorf("query %s for %s: %w", table, fs.Arg(0), err)
	}
	if len(out.Items) == 0 {
		return fmt.Errorf("no audit item with messageId %s in %s", fs.Arg(0), table)
	}
	enc := json.NewEncoder(a.stdout)
	for _, item := range out.Items {
		flat := map[string]string{}
		for k, v := range item {
			if s, ok := v.(*types.AttributeValueMemberS); ok {
				flat[k] = s.Value
			}
		}
		if err := enc.Encode(flat); err != nil {
			return err
		}
	}
	return nil
}

func (a *app) printOutputs(args []string) error {
	fs := a.flags("outputs", "", "Prints the environment outputs this CLI reads names from.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o, err := a.outputs()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, k := range o.Names() {
		v, _ := o.Text(k)
		fmt.Fprintf(tw, "%s\t%s\n", k, v)
	}
	fmt.Fprintf(tw, "\npipelines (for dlq commands):\t%s\n", strings.Join(o.Pipelines(), ", "))
	return tw.Flush()
}

// parseInterspersed lets flags follow the positional argument
// ("dlq peek audit -n 3"), which the flag package alone does not.
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(positional)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
