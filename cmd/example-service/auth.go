package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// headerAPIKey is the request header that carries the client's API key.
const headerAPIKey = "X-API-Key"

// minKeyBytes is the shortest API key accepted in the secret: shorter keys
// could be guessed.
const minKeyBytes = 16

// KeyChecker tells which API key, if any, a presented value is.
type KeyChecker interface {
	// Check returns the id of the active key equal to presented, or false.
	Check(presented string) (id string, ok bool)
}

// keySecret is the JSON the API-keys secret holds:
//
//	{"keys": [{"id": "k1", "key": "…"}, {"id": "k2", "key": "…", "expires": "2027-01-31T00:00:00Z"}]}
//
// Every listed key is active until its optional expires. Rotation: add the
// new key, give it to the client, then remove the old one (or let it
// expire); the service picks up the change at its next reload.
type keySecret struct {
	Keys []struct {
		ID      string     `json:"id"`
		Key     string     `json:"key"`
		Expires *time.Time `json:"expires,omitempty"`
	} `json:"keys"`
}

// apiKey is one active key as the service keeps it: its SHA-256 only.
type apiKey struct {
	id      string
	sum     [sha256.Size]byte
	expires time.Time // zero: never
}

// parseKeys reads the secret's JSON. Its errors never contain key material.
func parseKeys(secret []byte) ([]apiKey, error) {
	var ks keySecret
	if err := json.Unmarshal(secret, &ks); err != nil {
		return nil, errors.New(`not the expected JSON object {"keys":[{"id":…,"key":…}]}`)
	}
	if len(ks.Keys) == 0 {
		return nil, errors.New("no keys")
	}
	keys := make([]apiKey, 0, len(ks.Keys))
	ids := map[string]bool{}
	sums := map[[sha256.Size]byte]bool{}
	var errs []error
	for i, k := range ks.Keys {
		switch {
		case k.ID == "" || len(k.ID) > 64:
			errs = append(errs, fmt.Errorf("key %d: id must be 1–64 characters", i))
			continue
		case ids[k.ID]:
			errs = append(errs, fmt.Errorf("key %d: id %q is used twice", i, k.ID))
			continue
		case len(k.Key) < minKeyBytes:
			errs = append(errs, fmt.Errorf("key %q: shorter than %d bytes", k.ID, minKeyBytes))
			continue
		}
		sum := sha256.Sum256([]byte(k.Key))
		if sums[sum] {
			errs = append(errs, fmt.Errorf("key %q: the same key is listed twice", k.ID))
			continue
		}
		ids[k.ID], sums[sum] = true, true
		e := apiKey{id: k.ID, sum: sum}
		if k.Expires != nil {
			e.expires = *k.Expires
		}
		keys = append(keys, e)
	}
	return keys, errors.Join(errs...)
}

// GetSecretValueAPI is the subset of *secretsmanager.Client operations the
// key store uses.
type GetSecretValueAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// keyStore holds the API keys read from a Secrets Manager secret and reloads
// them (Run) so that rotated keys take effect without a restart. A reload
// that fails keeps the keys it had. Safe for concurrent use.
type keyStore struct {
	client   GetSecretValueAPI
	secretID string
	now      func() time.Time

	mu   sync.RWMutex
	keys []apiKey
	// onChange is told the ids of the new key set (the rate limiter drops
	// the buckets of removed keys).
	onChange func(ids map[string]bool)
}

func newKeyStore(client GetSecretValueAPI, secretID string) *keyStore {
	return &keyStore{client: client, secretID: secretID, now: time.Now}
}

// Load reads and parses the secret; on success it replaces the keys.
func (k *keyStore) Load(ctx context.Context) error {
	out, err := k.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(k.secretID)})
	if err != nil {
		return fmt.Errorf("get API keys secret %s: %w", k.secretID, err)
	}
	keys, err := parseKeys([]byte(aws.ToString(out.SecretString)))
	if err != nil {
		return fmt.Errorf("API keys secret %s: %w", k.secretID, err)
	}
	ids := make(map[string]bool, len(keys))
	for _, key := range keys {
		ids[key.id] = true
	}
	k.mu.Lock()
	k.keys = keys
	onChange := k.onChange
	k.mu.Unlock()
	if onChange != nil {
		onChange(ids)
	}
	return nil
}

// Run reloads the keys every interval until ctx ends, logging (never the
// keys) a reload that fails.
func (k *keyStore) Run(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := k.Load(ctx); err != nil && ctx.Err() == nil {
				log.Error("reload API keys failed; keeping the previous keys", "error", err)
			}
		}
	}
}

// Check implements KeyChecker. It compares the presented key's SHA-256 with
// every key's in constant time (crypto/subtle), so neither the position of
// the first differing byte nor the key's length shows in the timing.
func (k *keyStore) Check(presented string) (string, bool) {
	sum := sha256.Sum256([]byte(presented))
	now := k.now()
	k.mu.RLock()
	defer k.mu.RUnlock()
	match := -1
	for i := range k.keys {
		if subtle.ConstantTimeCompare(sum[:], k.keys[i].sum[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return "", false
	}
	if e := k.keys[match].expires; !e.IsZero() && !now.Before(e) {
		return "", false
	}
	return k.keys[match].id, true
}

type keyIDKey struct{}

// keyID is the id of the API key that authenticated the request ("" if none).
func keyID(ctx context.Context) string {
	id, _ := ctx.Value(keyIDKey{}).(string)
	return id
}

// protect guards a write endpoint, in this order: an API key is required
// (401 without, 403 for one that is not active), then the key's rate limit
// (429 with Retry-After), then the body is limited to maxRequestBytes before
// anything reads it (413), and the work gets the request timeout.
func (s *service) protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		presented := r.Header.Get(headerAPIKey)
		if presented == "" {
			w.Header().Set("WWW-Authenticate", `ApiKey header="`+headerAPIKey+`"`)
			writeError(w, http.StatusUnauthorized, "an API key is required in the "+headerAPIKey+" header")
			return
		}
		id, ok := s.keys.Check(presented)
		if !ok {
			writeError(w, http.StatusForbidden, "the API key is not valid")
			return
		}
		if wait, ok := s.limits.allow(id); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
			writeError(w, http.StatusTooManyRequests, "rate limit of this API key exceeded; retry after the Retry-After seconds")
			return
		}
		if r.ContentLength > maxRequestBytes {
			writeError(w, http.StatusRequestEntityTooLarge, errBodyTooLarge.Error())
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
		ctx := context.WithValue(r.Context(), keyIDKey{}, id)
		if s.requestTimeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.requestTimeout)
			defer cancel()
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
