package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/offload/offload/internal/testenv"
	"github.com/offload/offload/internal/twiliofake"
	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/producer"
	"github.com/offload/offload/test/harness"
)

// KeyPattern finds a request id in an SMS body (the campaign writes it there,
// so the fake provider can tell which request each text belongs to).
var KeyPattern = regexp.MustCompile(`chaos-s-\d{6}`)

// Fake Twilio credentials the campaign puts into the stack's secret.
const (
	twilioAccount = "ACchaos00000000000000000000000000"
	twilioToken   = "chaos-auth-token"
	twilioFrom    = "+15005550006"
)

// Env is the stack a campaign runs against.
type Env struct {
	// Stack is the applied local environment with its runtime.
	Stack *harness.Stack
	// Twilio is the fake SMS provider the sms-sender sends through.
	Twilio *twiliofake.Server
	// Notifications receives the notifications topic (DLQ reports).
	Notifications *harness.Subscription
	// Repo is the repository root (dist/local/<fn>/bootstrap lives there).
	Repo string
	// OffloadCLI is the built cmd/offload; OutputsFile the outputs it reads.
	OffloadCLI, OutputsFile string
	// Log receives progress lines.
	Log  io.Writer
	work string
}

// Up starts the fake provider, applies environments/local with sms-sender on
// Twilio pointed at it, starts the local runtime, sets the Twilio secret,
// subscribes a queue to the notifications topic and builds the ops CLI.
// Down undoes it, also after an error.
func Up(repo string, log io.Writer) (*Env, error) {
	tw, err := twiliofake.Start(twiliofake.Options{AccountSID: twilioAccount, AuthToken: twilioToken, KeyPattern: KeyPattern, Hang: 15 * time.Second})
	if err != nil {
		return nil, err
	}
	e := &Env{Twilio: tw, Repo: repo, Log: log}
	if e.work, err = os.MkdirTemp("", "offload-chaos-"); err != nil {
		return e, err
	}
	e.OffloadCLI = filepath.Join(e.work, "offload")
	build := exec.Command("go", "build", "-o", e.OffloadCLI, "./cmd/offload")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		return e, fmt.Errorf("build cmd/offload: %v: %s", err, out)
	}
	e.Stack, err = harness.Start(harness.Options{Name: "chaos", NoTraceDaemon: true,
		Vars: map[string]any{"sms_provider": "twilio", "twilio_api_url": tw.URL}})
	if err != nil {
		return e, err
	}
	ctx := context.Background()
	var arn string
	if err := json.Unmarshal(e.Stack.Outputs.Raw["twilio_secret_arn"], &arn); err != nil || arn == "" {
		return e, fmt.Errorf("outputs: no twilio_secret_arn")
	}
	secret, _ := json.Marshal(map[string]string{"account_sid": twilioAccount, "auth_token": twilioToken, "from": twilioFrom})
	if _, err := secretsmanager.NewFromConfig(e.Stack.Config).PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(arn), SecretString: aws.String(string(secret))}); err != nil {
		return e, fmt.Errorf("put the Twilio secret %s: %w", arn, err)
	}
	if e.Notifications, err = e.Stack.SubscribeQueueToTopicE(ctx, e.Stack.Outputs.NotificationsTopicARN); err != nil {
		return e, err
	}
	doc := map[string]map[string]json.RawMessage{}
	for k, v := range e.Stack.Outputs.Raw {
		doc[k] = map[string]json.RawMessage{"value": v}
	}
	b, _ := json.Marshal(doc)
	e.OutputsFile = filepath.Join(e.work, "outputs.json")
	if err := os.WriteFile(e.OutputsFile, b, 0o600); err != nil {
		return e, err
	}
	return e, nil
}

// Down brings everything Up started down.
func (e *Env) Down() error {
	var errs []error
	if e.Stack != nil {
		errs = append(errs, e.Stack.Down())
	}
	if e.Twilio != nil {
		errs = append(errs, e.Twilio.Close())
	}
	if e.work != "" {
		os.RemoveAll(e.work)
	}
	return errors.Join(errs...)
}

func (e *Env) logf(format string, a ...any) {
	fmt.Fprintf(e.Log, "chaos: "+format+"\n", a...)
}

// Run drives the schedule against the stack and accounts for every request.
func Run(ctx context.Context, e *Env, s Schedule, timeout time.Duration) (*Report, error) {
	start := time.Now()
	r := &runner{env: e, sched: s, faults: testenv.FaultClient{Endpoint: e.Stack.Outputs.EmulatorEndpoint, Timeout: 10 * time.Second},
		fired: map[Class]int{}, launcher: map[string]Class{}, accepted: map[string]int{}}
	if err := r.faults.Clear(ctx); err != nil {
		return nil, err
	}
	defer r.faults.Clear(context.WithoutCancel(ctx))
	var err error
	if r.audit, err = producer.New(e.Stack.SQS, e.Stack.Outputs.AuditQueueURL, producer.WithDefaultType(message.TypeAudit, "1")); err != nil {
		return nil, err
	}
	if r.sms, err = producer.New(e.Stack.SQS, e.Stack.Outputs.SMSQueueURL, producer.WithDefaultType(message.TypeSMS, "1")); err != nil {
		return nil, err
	}
	killCtx, stopKills := context.WithCancel(ctx)
	defer stopKills()

	// Request-level faults first, then the traffic with the queue-level
	// faults armed at their points.
	next := 0
	arm := func(published int) error {
		for ; next < len(s.Faults) && s.Faults[next].After <= published; next++ {
			if err := r.arm(killCtx, s.Faults[next]); err != nil {
				return err
			}
		}
		return nil
	}
	if err := arm(0); err != nil {
		return nil, err
	}
	e.logf("armed %d request faults; publishing %d requests in %d bursts", next, len(s.Requests), len(s.Bursts))
	var retries []Request
	published := 0
	for i, size := range s.Bursts {
		burst := append(retries, s.Requests[published:published+size]...)
		retries = nil
		if err := r.publish(ctx, burst); err != nil {
			return nil, err
		}
		for _, q := range s.Requests[published : published+size] {
			if q.Retry {
				retries = append(retries, q) // sent again with the next burst, same key
			}
		}
		published += size
		if err := arm(published); err != nil {
			return nil, err
		}
		select {
		case <-time.After(time.Duration(s.PausesMS[i]) * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err := r.publish(ctx, retries); err != nil {
		return nil, err
	}
	if err := arm(published + 1); err != nil {
		return nil, err
	}
	e.logf("published in %s; waiting for quiescence", time.Since(start).Round(time.Second))
	r.redrives.Wait()
	if err := r.quiesce(ctx, start.Add(timeout)); err != nil {
		return nil, err
	}
	stopKills()
	r.kills.Wait()
	e.logf("quiescent after %s; collecting notifications and accounting", time.Since(start).Round(time.Second))
	return r.account(ctx, start)
}

type runner struct {
	env        *Env
	sched      Schedule
	faults     testenv.FaultClient
	audit, sms *producer.Publisher

	mu        sync.Mutex
	fired     map[Class]int
	launcher  map[string]Class // launcher fault id -> class
	accepted  map[string]int   // request id -> publishes SQS accepted
	rejected  []string         // request ids SQS never accepted
	redriveOK string
	redrives  sync.WaitGroup
	kills     sync.WaitGroup
	killed    int
}

// publish sends one burst through the producers, one PublishBatch per
// pipeline; an entry SQS did not take after the producer's own retries is
// tried again by the client a few times, as a service would.
func (r *runner) publish(ctx context.Context, burst []Request) error {
	by := map[Kind][]Request{}
	for _, q := range burst {
		by[q.Kind] = append(by[q.Kind], q)
	}
	for kind, reqs := range by {
		pub := r.audit
		if kind == SMS {
			pub = r.sms
		}
		for try := 0; len(reqs) > 0; try++ {
			msgs := make([]producer.Message, len(reqs))
			for i, q := range reqs {
				msgs[i] = producer.Message{Body: body(q), IdempotencyKey: q.ID}
			}
			results, err := pub.PublishBatch(ctx, msgs)
			if err != nil && results == nil {
				return fmt.Errorf("publish %s burst: %w", kind, err)
			}
			var again []Request
			r.mu.Lock()
			for i, res := range results {
				if res.Err == nil {
					r.accepted[reqs[i].ID]++
				} else if try < 4 {
					again = append(again, reqs[i])
				} else {
					r.rejected = append(r.rejected, reqs[i].ID)
				}
			}
			r.mu.Unlock()
			reqs = again
		}
	}
	return nil
}

// body is a request's message body; the same request always has the same
// body (a producer retry is byte-identical).
func body(q Request) string {
	n, _ := strconv.Atoi(q.ID[len(q.ID)-6:])
	if q.Kind == Audit {
		b, _ := json.Marshal(audit.Message{MessageID: q.ID, AuditText: auditText(q.ID),
			AuditTime: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second)})
		return string(b)
	}
	b, _ := json.Marshal(map[string]string{"requestId": q.ID, "to": fmt.Sprintf("+4477009%05d", n%100000),
		"body": "Your chaos code for " + q.ID + " is " + strconv.Itoa(100000+n)})
	return string(b)
}

// launcherFault is the emulator fault (scripts/moto_launcher.py) of a class.
func (r *runner) launcherFault(f Fault) testenv.Fault {
	ddb := func(op string, lf testenv.Fault) testenv.Fault {
		lf.Service, lf.Operation, lf.Match, lf.Count = "dynamodb", op, f.Target+`"`, f.Count
		return lf
	}
	err500 := &testenv.FaultError{Status: 500, Code: "InternalServerError", Message: "injected by make chaos"}
	switch f.Class {
	case DDBThrottle:
		return ddb("PutItem", testenv.Fault{Error: &testenv.FaultError{Status: 400, Code: "ProvisionedThroughputExceededException", Message: "injected by make chaos"}})
	case DDB5xx:
		return ddb("PutItem", testenv.Fault{Error: err500})
	case DDBCommitLost:
		return ddb("PutItem", testenv.Fault{Error: err500, After: true})
	case LatencySpike:
		if f.Kind == SMS {
			// The completion of a text that was sent: the UpdateItem that
			// writes "completed" (not the Start before the provider call).
			return ddb("UpdateItem", testenv.Fault{DelayAfterSeconds: 4, Also: []string{`{"S":"completed"}`}})
		}
		return ddb("PutItem", testenv.Fault{DelayAfterSeconds: 4})
	case FunctionTimeout:
		return ddb("PutItem", testenv.Fault{Error: err500, DelaySeconds: 5})
	case FunctionKill:
		return ddb("PutItem", testenv.Fault{Error: err500, DelaySeconds: 2})
	case SQSDuplicate:
		url := r.env.Stack.Outputs.AuditQueueURL
		if f.Kind == SMS {
			url = r.env.Stack.Outputs.SMSQueueURL
		}
		// Past the runtime's 10 s delete timeout: the batch stays in flight
		// until its visibility expires, then SQS delivers it again.
		return testenv.Fault{Service: "sqs", Operation: "DeleteMessageBatch", Match: url + `"`, Count: 1,
			Error: err500, DelaySeconds: 11}
	}
	return testenv.Fault{}
}

func (r *runner) arm(ctx context.Context, f Fault) error {
	switch f.Class {
	case ProviderAccept500:
		r.env.Twilio.Fail(f.Target, twiliofake.AcceptThen500)
		return nil
	case ProviderAcceptTimeout:
		r.env.Twilio.Fail(f.Target, twiliofake.AcceptThenHang)
		return nil
	case ProviderThrottle:
		r.env.Twilio.Fail(f.Target, twiliofake.Throttle)
		return nil
	case DLQRedrive:
		r.redrives.Add(1)
		go func() {
			defer r.redrives.Done()
			// Redrive something: wait (while the traffic goes on) until the
			// DLQ holds a dead letter, a minute at most.
			url := r.env.Stack.Outputs.AuditDLQURL
			if f.Kind == SMS {
				url = r.env.Stack.Outputs.SMSDLQURL
			}
			for until := time.Now().Add(time.Minute); time.Now().Before(until); {
				if n, err := queueDepth(ctx, r.env.Stack.SQS, url); err == nil && n > 0 {
					break
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(500 * time.Millisecond):
				}
			}
			cmd := exec.CommandContext(ctx, r.env.OffloadCLI, "--outputs", r.env.OutputsFile, "dlq", "redrive", string(f.Kind))
			out, err := cmd.CombinedOutput()
			r.mu.Lock()
			defer r.mu.Unlock()
			r.fired[DLQRedrive]++
			if err != nil {
				r.redriveOK = fmt.Sprintf("failed: %v: %s", err, strings.TrimSpace(string(out)))
			} else {
				r.redriveOK = strings.TrimSpace(lastLine(string(out)))
			}
			r.env.logf("redrive of the %s DLQ: %s", f.Kind, r.redriveOK)
		}()
		return nil
	}
	got, err := r.faults.Inject(ctx, r.launcherFault(f))
	if err != nil {
		return fmt.Errorf("arm %s on %s: %w", f.Class, f.Target, err)
	}
	r.mu.Lock()
	r.launcher[got.ID] = f.Class
	r.mu.Unlock()
	if f.Class == FunctionKill {
		r.kills.Add(1)
		go r.killWhenFired(ctx, got.ID, f)
	}
	return nil
}

// killWhenFired waits until the target's call is hanging in the emulator
// (the fault fired), then SIGKILLs the function's bootstrap processes: the
// batch holding the target is cut in the middle.
func (r *runner) killWhenFired(ctx context.Context, id string, f Fault) {
	defer r.kills.Done()
	folder := "audit-receiver"
	if f.Kind == SMS {
		folder = "sms-sender"
	}
	bin := filepath.Join(r.env.Repo, "dist", "local", folder, "bootstrap")
	for {
		faults, err := r.faults.List(ctx)
		if err == nil {
			for _, lf := range faults {
				if lf.ID == id && lf.Fired > 0 {
					n := killByExe(bin)
					r.mu.Lock()
					r.killed += n
					r.mu.Unlock()
					r.env.logf("SIGKILLed %d %s process(es) while %s was in flight", n, folder, f.Target)
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond): // the target hangs 2 s
		}
	}
}

// killByExe SIGKILLs every process whose executable is bin (found in /proc).
func killByExe(bin string) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, d := range entries {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", d.Name(), "exe"))
		if err != nil || strings.TrimSuffix(exe, " (deleted)") != bin {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			n++
		}
	}
	return n
}

// quiesce waits until both work queues hold nothing — visible, in flight or
// delayed — on three polls in a row, a second apart.
func (r *runner) quiesce(ctx context.Context, deadline time.Time) error {
	quiet := 0
	for quiet < 3 {
		if time.Now().After(deadline) {
			return fmt.Errorf("not quiescent by the deadline: the work queues still hold messages")
		}
		empty := true
		for _, url := range []string{r.env.Stack.Outputs.AuditQueueURL, r.env.Stack.Outputs.SMSQueueURL} {
			n, err := queueDepth(ctx, r.env.Stack.SQS, url)
			if err != nil || n > 0 {
				empty = false
			}
		}
		if empty {
			quiet++
		} else {
			quiet = 0
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return nil
}

func queueDepth(ctx context.Context, c *sqs.Client, url string) (int, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible, sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range out.Attributes {
		i, _ := strconv.Atoi(v)
		n += i
	}
	return n, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func auditText(id string) string { return "chaos audit record " + id }
