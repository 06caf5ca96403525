package producer

import (
	"crypto/rand"
	"encoding/hex"
)

// NewIdempotencyKey returns a new random key in UUID version 4 form, the
// kind of key the Publisher generates for a message that has none.
func NewIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return formatUUID(&b)
}

// newKeys returns n keys from one read of the random source.
func newKeys(n int) []string {
	buf := make([]byte, 16*n)
	_, _ = rand.Read(buf)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = formatUUID((*[16]byte)(buf[16*i : 16*i+16]))
	}
	return keys
}

func formatUUID(b *[16]byte) string {
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}
