package dlq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/offload/offload/pkg/tracing"
)

// Notification is what on-call receives for one alarm state change.
type Notification struct {
	// Environment is the deployment's name (dev, prod, …).
	Environment string `json:"environment"`
	// Alarm is the state change.
	Alarm Alarm `json:"-"`
	// Sample is the DLQ's content when the alarm fired; nil on recovery.
	Sample *Sample `json:"-"`
}

// Recovered reports whether the notification is an OK transition.
func (n Notification) Recovered() bool { return n.Alarm.State == StateOK }

// maxSubjectRunes is the longest subject SNS accepts: fewer than 100
// characters.
const maxSubjectRunes = 99

// Subject is a one-line summary fit for SNS: fewer than 100 characters, valid
// UTF-8, no line breaks or control characters (each becomes a space), cut on
// a character boundary with "..." when longer.
func (n Notification) Subject() string {
	var s string
	switch {
	case n.Recovered():
		s = fmt.Sprintf("[OK] %s recovered: %s", n.Environment, n.Alarm.Name)
	case n.Sample != nil:
		s = fmt.Sprintf("[%s] %s: %d dead letter(s) in %s", n.Alarm.State, n.Environment, n.Sample.Visible, n.Sample.QueueName)
	default:
		s = fmt.Sprintf("[%s] %s: %s", n.Alarm.State, n.Environment, n.Alarm.Name)
	}
	return subjectLine(s)
}

// subjectLine makes s a valid SNS subject (see Subject).
func subjectLine(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) <= maxSubjectRunes {
		return s
	}
	runes := []rune(s)
	return string(runes[:maxSubjectRunes-3]) + "..."
}

// Text is the human-readable body: what fired, what is in the queue, why the
// messages died, and what to run next. Bodies are never included.
func (n Notification) Text() string {
	var b strings.Builder
	a := n.Alarm
	if n.Recovered() {
		fmt.Fprintf(&b, "Recovered: alarm %s is OK again in %s (was %s).\n", a.Name, n.Environment, a.PreviousState)
		fmt.Fprintf(&b, "Reason: %s\n", a.Reason)
		return b.String()
	}
	fmt.Fprintf(&b, "Alarm %s is %s in %s (%s, account %s).\n", a.Name, a.State, n.Environment, a.Region, a.AccountID)
	if a.Description != "" {
		fmt.Fprintf(&b, "%s\n", a.Description)
	}
	fmt.Fprintf(&b, "Reason: %s\nChanged at: %s\n", a.Reason, a.ChangedAt.UTC().Format(time.RFC3339))
	s := n.Sample
	if s == nil {
		return b.String()
	}
	fmt.Fprintf(&b, "\nQueue %s: %d message(s) waiting, %d in flight; oldest sampled is %s old.\n", s.QueueName, s.Visible, s.InFlight, s.OldestAge)
	if len(s.Messages) == 0 {
		b.WriteString("No message could be sampled (the queue may have been drained already).\n")
	}
	for i, m := range s.Messages {
		reason := m.Reason()
		fmt.Fprintf(&b, "%d. %s", i+1, m.MessageID)
		if m.OriginalMessageID != "" && m.OriginalMessageID != m.MessageID {
			fmt.Fprintf(&b, " (was %s)", m.OriginalMessageID)
		}
		fmt.Fprintf(&b, " — %d receive(s)", m.ReceiveCount)
		if m.FailureClass != "" {
			fmt.Fprintf(&b, ", %s", m.FailureClass)
		}
		fmt.Fprintf(&b, ": %s [body redacted, %d bytes]\n", reason, m.BodyBytes)
	}
	fmt.Fprintf(&b, "\nInspect: offload dlq peek %s\nAfter fixing the cause: offload dlq redrive %s\n", s.QueueName, s.QueueName)
	return b.String()
}

// MarshalJSON is the machine-readable form sent to SQS and Lambda
// subscribers of the notifications topic.
func (n Notification) MarshalJSON() ([]byte, error) {
	type msg struct {
		MessageID         string `json:"messageId"`
		OriginalMessageID string `json:"originalMessageId,omitempty"`
		ReceiveCount      int    `json:"receiveCount"`
		SentAt            string `json:"sentAt,omitempty"`
		Reason            string `json:"reason"`
		FailureReason     string `json:"failureReason,omitempty"`
		FailureClass      string `json:"failureClass,omitempty"`
		SourceQueue       string `json:"sourceQueue,omitempty"`
		Type              string `json:"type,omitempty"`
		BodyBytes         int    `json:"bodyBytes"`
	}
	out := struct {
		Kind          string `json:"kind"`
		Environment   string `json:"environment"`
		Alarm         string `json:"alarm"`
		AlarmARN      string `json:"alarmArn,omitempty"`
		State         string `json:"state"`
		PreviousState string `json:"previousState,omitempty"`
		Reason        string `json:"reason"`
		ChangedAt     string `json:"changedAt"`
		Queue         string `json:"queue,omitempty"`
		QueueURL      string `json:"queueUrl,omitempty"`
		Visible       *int   `json:"messageCount,omitempty"`
		InFlight      *int   `json:"inFlight,omitempty"`
		OldestAgeSec  *int64 `json:"oldestAgeSeconds,omitempty"`
		Messages      []msg  `json:"messages,omitempty"`
		Subject       string `json:"subject"`
	}{
		Kind: "offload.dlq-alarm", Environment: n.Environment, Alarm: n.Alarm.Name, AlarmARN: n.Alarm.ARN,
		State: n.Alarm.State, PreviousState: n.Alarm.PreviousState, Reason: n.Alarm.Reason,
		ChangedAt: n.Alarm.ChangedAt.UTC().Format(time.RFC3339Nano), Queue: n.Alarm.QueueName(), Subject: n.Subject(),
	}
	if s := n.Sample; s != nil {
		out.Queue, out.QueueURL = s.QueueName, s.QueueURL
		age := int64(s.OldestAge / time.Second)
		out.Visible, out.InFlight, out.OldestAgeSec = &s.Visible, &s.InFlight, &age
		for _, m := range s.Messages {
			sent := ""
			if !m.SentAt.IsZero() {
				sent = m.SentAt.Format(time.RFC3339Nano)
			}
			out.Messages = append(out.Messages, msg{m.MessageID, m.OriginalMessageID, m.ReceiveCount, sent,
				m.Reason(), m.FailureReason, m.FailureClass, m.SourceQueue, m.Type, m.BodyBytes})
		}
	}
	return json.Marshal(out)
}

// Notifier delivers a notification somewhere on-call looks.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// PublishAPI is the subset of *sns.Client operations SNSNotifier uses.
type PublishAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SNSNotifier publishes to a notifications topic: email subscribers get the
// text, SQS/Lambda/HTTPS subscribers the JSON.
type SNSNotifier struct {
	Client   PublishAPI
	TopicARN string
}

// Notify implements Notifier.
func (s SNSNotifier) Notify(ctx context.Context, n Notification) error {
	js, err := json.Marshal(n)
	if err != nil {
		return err
	}
	text := n.Text()
	structured, err := json.Marshal(map[string]string{
		"default": text, "email": text, "email-json": string(js),
		"sqs": string(js), "lambda": string(js), "http": string(js), "https": string(js),
	})
	if err != nil {
		return err
	}
	_, err = s.Client.Publish(ctx, &sns.PublishInput{
		TopicArn:         aws.String(s.TopicARN),
		Subject:          aws.String(n.Subject()),
		Message:          aws.String(string(structured)),
		MessageStructure: aws.String("json"),
	}, s.traceTopic)
	if err != nil {
		return fmt.Errorf("publish notification for %s to %s: %w", n.Alarm.Name, s.TopicARN, err)
	}
	return nil
}

// traceTopic names the topic on the publish's span (tracing.InstrumentAWS
// reads queues and tables from inputs, not topics: that would link the SNS
// client into every function).
func (s SNSNotifier) traceTopic(o *sns.Options) {
	o.APIOptions = append(o.APIOptions, tracing.AWSAttributes(tracing.AttrTopicARN.String(s.TopicARN)))
}

// GetSecretValueAPI is the subset of *secretsmanager.Client operations used here.
type GetSecretValueAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// WebhookNotifier posts {"text": …} to a Slack-compatible incoming webhook
// whose URL is kept in Secrets Manager (the secret string is the URL, or JSON
// {"url": "…"}). The URL is read once and never logged.
type WebhookNotifier struct {
	secrets  GetSecretValueAPI
	secretID string
	http     *http.Client

	mu  sync.Mutex
	url string
}

// NewWebhookNotifier returns a WebhookNotifier reading its URL from secretID.
func NewWebhookNotifier(secrets GetSecretValueAPI, secretID string, client *http.Client) *WebhookNotifier {
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	return &WebhookNotifier{secrets: secrets, secretID: secretID, http: client}
}

// ErrWebhookNotSet means the webhook secret exists but holds no value yet:
// the webhook is optional, so callers may ignore it.
var ErrWebhookNotSet = errors.New("webhook secret has no value")

func (w *WebhookNotifier) webhookURL(ctx context.Context) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.url != "" {
		return w.url, nil
	}
	out, err := w.secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(w.secretID)})
	if err != nil {
		var nf interface{ ErrorCode() string }
		if errors.As(err, &nf) && nf.ErrorCode() == "ResourceNotFoundException" {
			return "", fmt.Errorf("%w: %s", ErrWebhookNotSet, w.secretID)
		}
		return "", fmt.Errorf("get webhook secret %s: %w", w.secretID, err)
	}
	v := strings.TrimSpace(aws.ToString(out.SecretString))
	if strings.HasPrefix(v, "{") {
		var s struct {
			URL string `json:"url"`
		}
		if err := json.Unmarshal([]byte(v), &s); err != nil {
			return "", fmt.Errorf("webhook secret %s is not a URL nor {\"url\": …}", w.secretID)
		}
		v = s.URL
	}
	if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
		return "", fmt.Errorf("%w: %s does not hold a URL", ErrWebhookNotSet, w.secretID)
	}
	w.url = v
	return v, nil
}

// Notify implements Notifier.
func (w *WebhookNotifier) Notify(ctx context.Context, n Notification) error {
	u, err := w.webhookURL(ctx)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"text": n.Subject() + "\n" + n.Text()})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return errors.New("build webhook request (URL withheld)")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.http.Do(req)
	if err != nil {
		// The error text would carry the URL, which is a secret.
		return fmt.Errorf("post to webhook from secret %s failed", w.secretID)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("webhook from secret %s answered %s", w.secretID, resp.Status)
	}
	return nil
}
