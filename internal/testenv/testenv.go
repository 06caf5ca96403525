// Package testenv gives integration and end-to-end tests their AWS
// configuration and a view of the local emulator's side channels, and unit
// tests of settings a stand-in environment (Getenv).
//
// Tests reach AWS only through the standard SDK environment (AWS_ENDPOINT_URL,
// AWS_REGION, credentials): `make test` points it at its own moto instance.
// Nothing here names a host or port.
package testenv

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/offload/offload/internal/sdkconfig"
)

// Endpoint returns AWS_ENDPOINT_URL, failing the test when it is unset:
// integration tests need the emulator that `make test` starts.
func Endpoint(t testing.TB) string {
	t.Helper()
	ep := strings.TrimRight(os.Getenv("AWS_ENDPOINT_URL"), "/")
	if ep == "" {
		t.Fatal("AWS_ENDPOINT_URL is not set: run integration tests through `make test` (it starts moto), or `make up` and export AWS_ENDPOINT_URL")
	}
	return ep
}

// AWSConfig loads the SDK configuration from the environment, as product code
// does, after checking that it points at an emulator.
func AWSConfig(t testing.TB) aws.Config {
	t.Helper()
	Endpoint(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := sdkconfig.Load(ctx)
	if err != nil {
		t.Fatalf("load AWS config: %v", err)
	}
	return cfg
}

// Getenv returns a lookup with os.Getenv's signature that reads kv instead of
// the process environment (a key kv lacks is ""), for code that takes its
// environment as a function.
func Getenv(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

// SMS is one text message the emulator recorded as published to a phone number.
type SMS struct {
	MessageID   string            `json:"messageId"`
	PhoneNumber string            `json:"phoneNumber"`
	Message     string            `json:"message"`
	Attributes  map[string]string `json:"attributes"`
	Region      string            `json:"region"`
}

// SentSMS returns every SMS the emulator has recorded, oldest first.
// It reads the launcher's /_offload/sms side channel (scripts/moto_launcher.py).
func SentSMS(t testing.TB) []SMS {
	t.Helper()
	msgs, err := SentSMSE(Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// SentSMSE is SentSMS for a given emulator endpoint, returning errors.
func SentSMSE(endpoint string) ([]SMS, error) {
	resp, err := http.Get(endpoint + "/_offload/sms")
	if err != nil {
		return nil, fmt.Errorf("read sent SMS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read sent SMS: status %s (is the emulator started by scripts/moto_launcher.py?)", resp.Status)
	}
	var msgs []SMS
	if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil {
		return nil, fmt.Errorf("decode sent SMS: %w", err)
	}
	return msgs, nil
}

// UniqueName returns prefix-<10 random hex digits>, short enough for every AWS
// name limit offload uses, so tests sharing one emulator never collide. The
// suffix is random, not the clock: parallel tests (and the packages `go test`
// runs side by side against one emulator) read the clock at the same
// nanosecond often enough that CI once created one table twice.
func UniqueName(prefix string) string {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on Linux; should it, fall back to the
		// clock rather than hand out a constant.
		return fmt.Sprintf("%s-%010x", prefix, time.Now().UnixNano()&0xffffffffff)
	}
	return fmt.Sprintf("%s-%x", prefix, b)
}

// TableAPI is the part of the DynamoDB client CreateTable uses.
type TableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DeleteTable(ctx context.Context, in *dynamodb.DeleteTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error)
}

// CreateTable creates a test's table and deletes it when the test ends. The
// name must be the test's own (UniqueName): "already exists" then means the
// first attempt made the table and the busy emulator lost its answer before
// the SDK retried, as happens on AWS too (terraform-provider-aws#30460), so
// it counts as created.
func CreateTable(t testing.TB, client TableAPI, in *dynamodb.CreateTableInput) {
	t.Helper()
	name := aws.ToString(in.TableName)
	_, err := client.CreateTable(context.Background(), in)
	var inUse *ddbtypes.ResourceInUseException
	switch {
	case errors.As(err, &inUse):
		t.Logf("create table %s: %v; the first attempt's answer was lost, the table is this test's", name, err)
	case err != nil:
		t.Fatalf("create table %s: %v", name, err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
}

// CreateKeyTable creates, with CreateTable, the shape of every offload
// table: pay per request, keyed by the string attribute keys[0] and, when
// there is a second, the string sort key keys[1].
func CreateKeyTable(t testing.TB, client TableAPI, name string, keys ...string) {
	t.Helper()
	if len(keys) == 0 || len(keys) > 2 {
		t.Fatalf("table %s: a partition key and at most a sort key, not %q", name, keys)
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest}
	for i, k := range keys {
		kt := ddbtypes.KeyTypeHash
		if i == 1 {
			kt = ddbtypes.KeyTypeRange
		}
		in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(k), KeyType: kt})
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(k), AttributeType: ddbtypes.ScalarAttributeTypeS})
	}
	CreateTable(t, client, in)
}

// BootstrapZip is a Lambda deployment package holding one file, bootstrap,
// with content: what tests deploy to the emulator, which stores it (the
// local runtime runs the host build, never this).
func BootstrapZip(t testing.TB, content string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("bootstrap")
	if err == nil {
		_, err = w.Write([]byte(content))
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatalf("bootstrap zip: %v", err)
	}
	return buf.Bytes()
}
