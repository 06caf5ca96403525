package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// TwilioCredentials are what the Twilio provider needs. The secret's JSON uses
// the snake_case names.
type TwilioCredentials struct {
	AccountSID          string `json:"account_sid"`
	AuthToken           string `json:"auth_token"`
	From                string `json:"from,omitempty"`
	MessagingServiceSID string `json:"messaging_service_sid,omitempty"`
}

// String never prints the token.
func (c TwilioCredentials) String() string {
	return fmt.Sprintf("TwilioCredentials{AccountSID:%s AuthToken:[redacted]}", c.AccountSID)
}

func (c TwilioCredentials) validate() error {
	var errs []error
	if c.AccountSID == "" {
		errs = append(errs, errors.New("account_sid is empty"))
	}
	if c.AuthToken == "" {
		errs = append(errs, errors.New("auth_token is empty"))
	}
	if c.From == "" && c.MessagingServiceSID == "" {
		errs = append(errs, errors.New("neither from nor messaging_service_sid is set"))
	}
	return errors.Join(errs...)
}

// CredentialSource supplies Twilio credentials.
type CredentialSource interface {
	// Credentials returns the current credentials.
	Credentials(ctx context.Context) (TwilioCredentials, error)
	// Invalidate forgets cached credentials (after a 401: they were rotated).
	Invalidate()
}

// GetSecretValueAPI is the subset of *secretsmanager.Client operations used here.
type GetSecretValueAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretCredentials reads Twilio credentials from a Secrets Manager secret
// once and caches them for TTL (default 15 minutes), so a container makes one
// call, not one per message. Safe for concurrent use.
type SecretCredentials struct {
	client   GetSecretValueAPI
	secretID string
	ttl      time.Duration
	now      func() time.Time

	mu      sync.Mutex
	cached  TwilioCredentials
	fetched time.Time
}

// NewSecretCredentials returns a CredentialSource for the secret secretID (name or ARN).
func NewSecretCredentials(client GetSecretValueAPI, secretID string, ttl time.Duration) *SecretCredentials {
	if ttl <= 0 {
		ttl = 15 * time.Minute
	}
	return &SecretCredentials{client: client, secretID: secretID, ttl: ttl, now: time.Now}
}

// Credentials implements CredentialSource.
func (s *SecretCredentials) Credentials(ctx context.Context) (TwilioCredentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.fetched.IsZero() && s.now().Sub(s.fetched) < s.ttl {
		return s.cached, nil
	}
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.secretID)})
	if err != nil {
		return TwilioCredentials{}, fmt.Errorf("get secret %s: %w", s.secretID, err)
	}
	var c TwilioCredentials
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &c); err != nil {
		// Never echo the secret's content.
		return TwilioCredentials{}, fmt.Errorf("secret %s is not the expected JSON object", s.secretID)
	}
	if err := c.validate(); err != nil {
		return TwilioCredentials{}, fmt.Errorf("secret %s: %w", s.secretID, err)
	}
	s.cached, s.fetched = c, s.now()
	return c, nil
}

// Invalidate implements CredentialSource.
func (s *SecretCredentials) Invalidate() {
	s.mu.Lock()
	s.fetched = time.Time{}
	s.mu.Unlock()
}
