package producer

import (
	"bytes"
	"crypto/rand"

	"github.com/google/uuid"
)

// NewIdempotencyKey returns a new random key in UUID version 4 form, the
// kind of key the Publisher generates for a message that has none.
func NewIdempotencyKey() string { return uuid.NewString() }

// newKeys returns n keys from one read of the random source.
func newKeys(n int) []string {
	buf := make([]byte, 16*n)
	_, _ = rand.Read(buf) // crypto/rand.Read never fails (Go ≥ 1.24)
	r := bytes.NewReader(buf)
	keys := make([]string, n)
	for i := range keys {
		id, _ := uuid.NewRandomFromReader(r) // reads 16 of the n×16 bytes
		keys[i] = id.String()
	}
	return keys
}
