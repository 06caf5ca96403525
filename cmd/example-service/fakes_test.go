package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/message"
	"github.com/offload/offload/pkg/producer"
)

// testKey is the API key the test services accept (id "k1").
const testKey = "test-key-0123456789abcdef"

var testNow = time.Date(2026, 11, 26, 23, 12, 43, 123456700, time.UTC)

// fakeSecrets is Secrets Manager holding one secret string.
type fakeSecrets struct {
	mu    sync.Mutex
	value string
	err   error
	calls int
}

func (f *fakeSecrets) set(v string) { f.mu.Lock(); f.value = v; f.mu.Unlock() }

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return &secretsmanager.GetSecretValueOutput{Name: in.SecretId, SecretString: aws.String(f.value)}, nil
}

func testKeys(t testing.TB, secret string) *keyStore {
	t.Helper()
	ks := newKeyStore(&fakeSecrets{value: secret}, "api-keys")
	ks.now = func() time.Time { return testNow }
	require.NoError(t, ks.Load(context.Background()))
	return ks
}

// fakeSQS is SQS for a real producer.Publisher: it accepts every message up
// to maxBody bytes (0: any) and refuses larger ones as SQS does.
type fakeSQS struct {
	mu      sync.Mutex
	in      []*sqs.SendMessageInput
	maxBody int
	// block, when set, holds every SendMessageBatch until it is closed;
	// entered (buffered) is signalled when one starts waiting.
	block   chan struct{}
	entered chan struct{}
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(in); err != nil {
		return nil, err
	}
	f.in = append(f.in, in)
	return &sqs.SendMessageOutput{MessageId: aws.String(fmt.Sprintf("sqs-%d", len(f.in)))}, nil
}

// check applies SQS's rules to one message.
func (f *fakeSQS) check(in *sqs.SendMessageInput) error {
	if !sqsChars(aws.ToString(in.MessageBody)) {
		return &smithy.GenericAPIError{Code: "InvalidParameterValue", Message: "Invalid characters found in MessageBody", Fault: smithy.FaultClient}
	}
	for name, v := range in.MessageAttributes {
		if !sqsChars(aws.ToString(v.StringValue)) {
			return &smithy.GenericAPIError{Code: "InvalidParameterValue", Message: "Invalid characters found in attribute " + name, Fault: smithy.FaultClient}
		}
	}
	if f.maxBody > 0 && len(aws.ToString(in.MessageBody)) > f.maxBody {
		return &smithy.GenericAPIError{Code: "InvalidParameterValue",
			Message: fmt.Sprintf("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", f.maxBody), Fault: smithy.FaultClient}
	}
	return nil
}

// sqsChars is SQS's rule for message bodies and attribute values: UTF-8 of
// #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF.
func sqsChars(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !(r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || r >= 0x10000) {
			return false
		}
	}
	return true
}

// SendMessageBatch records each entry SendMessage would accept and fails
// the others as SQS does (per entry, sender's fault).
func (f *fakeSQS) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	if f.block != nil {
		select {
		case f.entered <- struct{}{}:
		default:
		}
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		// A copy: the entries may point into the caller's reused buffers.
		m := &sqs.SendMessageInput{QueueUrl: in.QueueUrl, MessageBody: aws.String(aws.ToString(e.MessageBody)),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{}}
		for k, v := range e.MessageAttributes {
			m.MessageAttributes[k] = sqstypes.MessageAttributeValue{DataType: aws.String(aws.ToString(v.DataType)), StringValue: aws.String(aws.ToString(v.StringValue))}
		}
		if err := f.check(m); err != nil {
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InvalidParameterValue"), Message: aws.String(err.Error()), SenderFault: true})
			continue
		}
		f.in = append(f.in, m)
		out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id, MessageId: aws.String(fmt.Sprintf("sqs-%d", len(f.in)))})
	}
	return out, nil
}

// bodies returns the bodies SQS accepted, in order.
func (f *fakeSQS) bodies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.in))
	for i, in := range f.in {
		out[i] = aws.ToString(in.MessageBody)
	}
	return out
}

func (f *fakeSQS) calls() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.in) }

// fakeDynamo is DynamoDB's PutItem for a real audit.Store, with DynamoDB's
// key rules (a key attribute is a non-empty string, hash key at most 2048
// bytes, range key at most 1024) and its 400 KB item limit.
type fakeDynamo struct {
	mu    sync.Mutex
	items map[string]map[string]types.AttributeValue
}

func (f *fakeDynamo) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, _ := in.Item[audit.AttrMessageID].(*types.AttributeValueMemberS)
	at, _ := in.Item[audit.AttrAuditTime].(*types.AttributeValueMemberS)
	size := 0
	for k, v := range in.Item {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			size += len(k) + len(s.Value)
		}
	}
	switch {
	case id == nil || at == nil || id.Value == "" || at.Value == "":
		return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value."}
	case len(id.Value) > 2048 || len(at.Value) > 1024:
		return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of 2048 bytes"}
	case size > 400*1024:
		return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "Item size has exceeded the maximum allowed size"}
	}
	if f.items == nil {
		f.items = map[string]map[string]types.AttributeValue{}
	}
	if old, ok := f.items[id.Value]; ok {
		return nil, &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed"), Item: old}
	}
	f.items[id.Value] = in.Item
	return &dynamodb.PutItemOutput{}, nil
}

// newTestService is a service with the test key, a generous rate limit and
// the test clock.
// POST /audit (buffered) goes to auditQ too when it is a *fakePublisher.
func newTestService(t testing.TB, store AuditStore, auditQ, smsQ Publisher) *service {
	t.Helper()
	svc := &service{audit: store, auditQ: auditQ, smsQ: smsQ,
		keys: testKeys(t, `{"keys":[{"id":"k1","key":"`+testKey+`"}]}`), limits: newRateLimiter(1000, 1000),
		requestTimeout: 5 * time.Second, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		now: func() time.Time { return testNow }}
	if fp, ok := auditQ.(*fakePublisher); ok {
		svc.auditAsync = fakeEnqueuer{fp}
	}
	return svc
}

// fakeEnqueuer is an Enqueuer that hands each message to a fakePublisher at
// once.
type fakeEnqueuer struct{ p *fakePublisher }

func (f fakeEnqueuer) Publish(ctx context.Context, m producer.Message) (string, error) {
	_, err := f.p.Publish(ctx, m)
	return m.IdempotencyKey, err
}

// setupReal runs the service with real publishers (size guard maxMessage)
// and a real audit store over fake SQS and DynamoDB clients.
func setupReal(t testing.TB, maxMessage int) (*httptest.Server, *fakeSQS, *fakeSQS, *fakeDynamo) {
	t.Helper()
	svc, auditSQS, smsSQS, dyn := newRealService(t, maxMessage)
	srv := httptest.NewServer(svc.routes())
	t.Cleanup(srv.Close)
	return srv, auditSQS, smsSQS, dyn
}

func newRealService(t testing.TB, maxMessage int) (*service, *fakeSQS, *fakeSQS, *fakeDynamo) {
	t.Helper()
	auditSQS, smsSQS, dyn := &fakeSQS{}, &fakeSQS{}, &fakeDynamo{}
	noSleep := producer.WithSleep(func(context.Context, time.Duration) error { return nil })
	auditQ, err := producer.New(auditSQS, "https://sqs.test/1/audit", producer.WithDefaultType(message.TypeAudit, ""), producer.WithMaxMessageBytes(maxMessage), noSleep)
	require.NoError(t, err)
	smsQ, err := producer.New(smsSQS, "https://sqs.test/1/sms", producer.WithDefaultType(message.TypeSMS, ""), producer.WithMaxMessageBytes(maxMessage), noSleep)
	require.NoError(t, err)
	svc := newTestService(t, audit.NewStore(dyn, "AuditMessages"), auditQ, smsQ)
	buf, err := newAuditBuffer(auditQ, 100, time.Hour, svc.log)
	require.NoError(t, err)
	t.Cleanup(func() { _ = buf.Close(context.Background()) })
	svc.auditAsync = buf
	svc.smsSync = newFakeSender(t)
	return svc, auditSQS, smsSQS, dyn
}

// send POSTs body with the test API key (unless headers set X-API-Key, ""
// meaning none) and returns the status and JSON answer.
func send(t testing.TB, url, body string, headers map[string]string) (int, map[string]string) {
	t.Helper()
	status, out, _ := sendFull(t, url, body, headers)
	return status, out
}

func sendFull(t testing.TB, url, body string, headers map[string]string) (int, map[string]string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(headerAPIKey, testKey)
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out, resp.Header
}

// newTestPublisher is a real audit publisher over client.
func newTestPublisher(t testing.TB, client producer.SQSAPI) *producer.Publisher {
	t.Helper()
	p, err := producer.New(client, "https://sqs.test/1/audit", producer.WithDefaultType(message.TypeAudit, ""),
		producer.WithSleep(func(context.Context, time.Duration) error { return nil }))
	require.NoError(t, err)
	return p
}
