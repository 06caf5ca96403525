// Package testenv gives integration and end-to-end tests their AWS
// configuration and a view of the local emulator's side channels.
//
// Tests reach AWS only through the standard SDK environment (AWS_ENDPOINT_URL,
// AWS_REGION, credentials): `make test` points it at its own moto instance.
// Nothing here names a host or port.
package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
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
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatalf("load AWS config: %v", err)
	}
	return cfg
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

// UniqueName returns prefix-<random>, short enough for every AWS name limit
// offload uses, so tests sharing one emulator never collide.
func UniqueName(prefix string) string {
	return fmt.Sprintf("%s-%x", prefix, time.Now().UnixNano()&0xffffffffff)
}
