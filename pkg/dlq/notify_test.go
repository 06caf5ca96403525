package dlq

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/stretchr/testify/require"
)

func alarmNotification() Notification {
	return Notification{
		Environment: "dev",
		Alarm: Alarm{Name: "offload-dev-audit-dlq-not-empty", State: StateAlarm, PreviousState: StateOK, Reason: "Threshold Crossed",
			Region: "eu-west-1", AccountID: "123456789012", Namespace: "AWS/SQS", Dimensions: map[string]string{"QueueName": "offload-dev-audit-dlq"},
			ChangedAt: time.Date(2026, 11, 27, 0, 12, 43, 0, time.UTC)},
		Sample: &Sample{QueueName: "offload-dev-audit-dlq", QueueURL: "https://sqs/123/offload-dev-audit-dlq", Visible: 2, OldestAge: 90 * time.Second,
			Messages: []SampledMessage{
				{MessageID: "m-1", OriginalMessageID: "orig-1", ReceiveCount: 1, FailureReason: "auditText is empty", FailureClass: "validation", BodyBytes: 42},
				{MessageID: "m-2", ReceiveCount: 3, BodyBytes: 10},
			}},
	}
}

func TestNotificationNamesMessagesAndReasonsButNoBodies(t *testing.T) {
	t.Parallel()
	n := alarmNotification()
	text := n.Text()
	for _, want := range []string{"offload-dev-audit-dlq-not-empty", "ALARM", "dev", "2 message(s) waiting", "m-1", "(was orig-1)",
		"auditText is empty", "validation", "m-2", "maxReceiveCount", "body redacted, 42 bytes", "offload dlq redrive offload-dev-audit-dlq", "1m30s"} {
		require.Contains(t, text, want)
	}
	require.Equal(t, "[ALARM] dev: 2 dead letter(s) in offload-dev-audit-dlq", n.Subject())

	var js map[string]any
	b, err := json.Marshal(n)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &js))
	require.Equal(t, "offload.dlq-alarm", js["kind"])
	require.Equal(t, "offload-dev-audit-dlq", js["queue"])
	require.EqualValues(t, 2, js["messageCount"])
	require.EqualValues(t, 90, js["oldestAgeSeconds"])
	msgs := js["messages"].([]any)
	require.Len(t, msgs, 2)
	require.Equal(t, "auditText is empty", msgs[0].(map[string]any)["failureReason"])
	require.Equal(t, "auditText is empty", msgs[0].(map[string]any)["reason"])
	require.Equal(t, ReasonMaxReceives, msgs[1].(map[string]any)["reason"])
	require.NotContains(t, string(b), "body\"")
}

func TestRecoveredNotificationIsShort(t *testing.T) {
	t.Parallel()
	n := Notification{Environment: "prod", Alarm: Alarm{Name: "a-dlq", State: StateOK, PreviousState: StateAlarm, Reason: "back to 0"}}
	require.True(t, n.Recovered())
	require.Equal(t, "[OK] prod recovered: a-dlq", n.Subject())
	require.Contains(t, n.Text(), "Recovered")
	require.Less(t, len(n.Text()), 200)
}

func TestSubjectFitsSNSLimit(t *testing.T) {
	t.Parallel()
	n := alarmNotification()
	n.Sample.QueueName = strings.Repeat("q", 150)
	require.LessOrEqual(t, len(n.Subject()), 100)
}

// SNS wants a subject of fewer than 100 characters, UTF-8, without line
// breaks or control characters.
func TestSubjectCutOnACharacterBelowSNSLimit(t *testing.T) {
	t.Parallel()
	for _, name := range []string{
		strings.Repeat("é", 150),             // 2 bytes each: a byte cut splits one
		strings.Repeat("日", 40) + "-dlq",     // 3 bytes each, 99+ bytes before 100 characters
		"q" + strings.Repeat("🚨", 120),       // 4 bytes each
		"line\nbreak\ttab\x00nul\x7f-dlq",    // control characters
		strings.Repeat("a", 70) + "\xff\xfe", // not UTF-8
	} {
		n := alarmNotification()
		n.Sample.QueueName = name
		s := n.Subject()
		require.True(t, utf8.ValidString(s), "%q", s)
		require.Less(t, utf8.RuneCountInString(s), 100, "%q", s)
		for _, r := range s {
			require.False(t, unicode.IsControl(r), "%q has a control character", s)
		}
		require.True(t, strings.HasPrefix(s, "[ALARM] dev: 2 dead letter(s) in "), "%q", s)
	}
	n := alarmNotification()
	n.Sample.QueueName = strings.Repeat("é", 150)
	require.Equal(t, 99, utf8.RuneCountInString(n.Subject()), "as much as fits")
	require.True(t, strings.HasSuffix(n.Subject(), "é..."))
}

type fakeSNS struct{ in *sns.PublishInput }

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.in = in
	return &sns.PublishOutput{MessageId: aws.String("x")}, nil
}

func TestSNSNotifierSendsTextToPeopleAndJSONToMachines(t *testing.T) {
	t.Parallel()
	f := &fakeSNS{}
	require.NoError(t, SNSNotifier{Client: f, TopicARN: "arn:topic"}.Notify(context.Background(), alarmNotification()))
	require.Equal(t, "json", aws.ToString(f.in.MessageStructure))
	var per map[string]string
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(f.in.Message)), &per))
	require.Contains(t, per["default"], "Inspect: offload dlq peek")
	require.Contains(t, per["email"], "Inspect: offload dlq peek")
	var js map[string]any
	require.NoError(t, json.Unmarshal([]byte(per["sqs"]), &js))
	require.Equal(t, "offload.dlq-alarm", js["kind"])
	require.Equal(t, per["sqs"], per["lambda"])
}

type fakeSM struct {
	mu    sync.Mutex
	calls int
	value string
}

func (f *fakeSM) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(f.value)}, nil
}

func TestWebhookNotifierPostsSlackTextAndHidesTheURL(t *testing.T) {
	t.Parallel()
	var got []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
		if strings.Contains(r.URL.Path, "broken") {
			w.WriteHeader(500)
		}
	}))
	t.Cleanup(srv.Close)

	sm := &fakeSM{value: `{"url":"` + srv.URL + `/services/T000/B000/XXXX"}`}
	w := NewWebhookNotifier(sm, "arn:secret:webhook", nil)
	require.NoError(t, w.Notify(context.Background(), alarmNotification()))
	require.NoError(t, w.Notify(context.Background(), alarmNotification()))
	require.Equal(t, 1, sm.calls, "the secret is read once")
	require.Len(t, got, 2)
	var body map[string]string
	require.NoError(t, json.Unmarshal([]byte(got[0]), &body))
	require.Contains(t, body["text"], "[ALARM] dev: 2 dead letter(s)")

	broken := NewWebhookNotifier(&fakeSM{value: srv.URL + "/broken/T000/secret-path"}, "arn:secret:webhook", nil)
	err := broken.Notify(context.Background(), alarmNotification())
	require.ErrorContains(t, err, "500")
	require.NotContains(t, err.Error(), "secret-path", "the URL is a secret")

	unreachable := NewWebhookNotifier(&fakeSM{value: "http://127.0.0.1:1/secret-path"}, "arn:secret:webhook", nil)
	err = unreachable.Notify(context.Background(), alarmNotification())
	require.Error(t, err)
	require.NotContains(t, err.Error(), "secret-path")

	unset := NewWebhookNotifier(&fakeSM{value: ""}, "arn:secret:webhook", nil)
	require.ErrorIs(t, unset.Notify(context.Background(), alarmNotification()), ErrWebhookNotSet)
}
