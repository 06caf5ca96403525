package idempotency

import (
	"context"
	"fmt"
	"sync"
	"time"
)

type state int

const (
	stateInProgress state = iota
	stateCompleted
	stateUnknown
)

type memRecord struct {
	state      state
	hash       string
	result     []byte
	reason     string
	leaseUntil time.Time
	expiresAt  time.Time
	attempt    int
}

// MemoryStore is a Store in process memory, guarded by a mutex: for tests,
// fakes and single-process use. Expired records are removed lazily.
type MemoryStore struct {
	o       options
	mu      sync.Mutex
	records map[string]*memRecord
}

var _ Store = (*MemoryStore)(nil)

// NewMemory returns an empty MemoryStore (key and TTL attribute options are
// ignored).
func NewMemory(opts ...Option) (*MemoryStore, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("new memory store: %w", err)
	}
	return &MemoryStore{o: o, records: make(map[string]*memRecord)}, nil
}

// live returns key's record unless it is absent or expired (then removed).
func (s *MemoryStore) live(key string, now time.Time) *memRecord {
	r := s.records[key]
	if r != nil && !now.Before(r.expiresAt) {
		delete(s.records, key)
		return nil
	}
	return r
}

// Begin implements Store.
func (s *MemoryStore) Begin(_ context.Context, key, payloadHash string, lease time.Duration) (Outcome, error) {
	if err := checkBegin(key, lease); err != nil {
		return Outcome{}, err
	}
	now := s.o.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.live(key, now)
	if r == nil {
		until := now.Add(lease)
		s.records[key] = &memRecord{state: stateInProgress, hash: payloadHash, leaseUntil: until, expiresAt: until.Add(s.o.retention), attempt: 1}
		return Outcome{Status: StatusAcquired, LeaseUntil: until, Attempt: 1}, nil
	}
	if r.hash != payloadHash {
		return Outcome{}, fmt.Errorf("begin %s: %w", key, ErrPayloadMismatch)
	}
	switch r.state {
	case stateCompleted:
		return Outcome{Status: StatusCompleted, Result: clone(r.result), Attempt: r.attempt}, nil
	case stateUnknown:
		return Outcome{Status: StatusUnknown, Reason: r.reason, Attempt: r.attempt}, nil
	}
	if now.Before(r.leaseUntil) {
		return Outcome{Status: StatusInProgress, LeaseUntil: r.leaseUntil, Attempt: r.attempt}, nil
	}
	r.attempt++
	r.leaseUntil = now.Add(lease)
	r.expiresAt = r.leaseUntil.Add(s.o.retention)
	return Outcome{Status: StatusLeaseExpired, LeaseUntil: r.leaseUntil, Attempt: r.attempt}, nil
}

// held returns key's in-progress record or ErrNotHeld.
func (s *MemoryStore) held(op, key string) (*memRecord, error) {
	r := s.live(key, s.o.now())
	if r == nil || r.state != stateInProgress {
		return nil, fmt.Errorf("%s %s: %w", op, key, ErrNotHeld)
	}
	return r, nil
}

// Complete implements Store.
func (s *MemoryStore) Complete(_ context.Context, key string, result []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.held("complete", key)
	if err != nil {
		return err
	}
	r.state, r.result, r.expiresAt = stateCompleted, clone(result), s.o.now().Add(s.o.retention)
	return nil
}

// Release implements Store.
func (s *MemoryStore) Release(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.held("release", key); err != nil {
		return err
	}
	delete(s.records, key)
	return nil
}

// MarkUnknown implements Store.
func (s *MemoryStore) MarkUnknown(_ context.Context, key, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.held("mark unknown", key)
	if err != nil {
		return err
	}
	r.state, r.reason, r.expiresAt = stateUnknown, reason, s.o.now().Add(s.o.retention)
	return nil
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte{}, b...)
}
