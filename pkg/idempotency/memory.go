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
	stateReleased
)

type memRecord struct {
	state      state
	hash       string
	result     []byte
	reason     string
	leaseUntil time.Time
	expiresAt  time.Time
	attempt    int
	token      string
	// started is false while a DeferStart claim has not called Start.
	started bool
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

// Retention is how long a record is kept after its last write (WithRetention).
func (s *MemoryStore) Retention() time.Duration { return s.o.retention }

// Begin implements Store.
func (s *MemoryStore) Begin(_ context.Context, key, payloadHash string, lease time.Duration, opts ...BeginOption) (Outcome, error) {
	if err := checkBegin(key, lease); err != nil {
		return Outcome{}, err
	}
	bo := beginOpts(opts)
	now := s.o.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.live(key, now)
	if r == nil || r.state == stateReleased {
		until := now.Add(lease)
		tok := newToken()
		s.records[key] = &memRecord{state: stateInProgress, hash: payloadHash, leaseUntil: until, expiresAt: until.Add(s.o.retention), attempt: 1, token: tok, started: !bo.deferStart}
		return Outcome{Status: StatusAcquired, LeaseUntil: until, Attempt: 1, Token: tok}, nil
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
	r.token = newToken()
	if !r.started {
		// The expired attempt never started its work: not done, acquire.
		r.started = !bo.deferStart
		return Outcome{Status: StatusAcquired, LeaseUntil: r.leaseUntil, Attempt: r.attempt, Token: r.token}, nil
	}
	return Outcome{Status: StatusLeaseExpired, LeaseUntil: r.leaseUntil, Attempt: r.attempt, Token: r.token}, nil
}

// Start implements Store.
func (s *MemoryStore) Start(_ context.Context, key, token string) error {
	if err := checkToken("start", key, token); err != nil {
		return err
	}
	now := s.o.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.live(key, now)
	if r == nil {
		return fmt.Errorf("start %s: %w", key, ErrNotHeld)
	}
	if err := startCheck(key, r.state == stateInProgress, r.token == token, r.started, now.Before(r.leaseUntil), r.attempt); err != nil {
		return skipped(err)
	}
	r.started = true
	return nil
}

// finish moves the attempt's in-progress record to the final state to. It
// returns (nil, nil) when the attempt already did so, and ErrNotHeld or
// ErrLeaseLost when the record is not the attempt's to finish.
func (s *MemoryStore) finish(op, key, token string, to state) (*memRecord, error) {
	if err := checkToken(op, key, token); err != nil {
		return nil, err
	}
	r := s.live(key, s.o.now())
	if r == nil {
		return nil, fmt.Errorf("%s %s: %w", op, key, ErrNotHeld)
	}
	return r, finishCheck(op, key, r.state == stateInProgress, r.state == to, r.token == token, r.attempt)
}

// Complete implements Store.
func (s *MemoryStore) Complete(_ context.Context, key, token string, result []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.finish("complete", key, token, stateCompleted)
	if err != nil {
		return skipped(err)
	}
	r.state, r.result, r.expiresAt = stateCompleted, clone(result), s.o.now().Add(s.o.retention)
	return nil
}

// Release implements Store.
func (s *MemoryStore) Release(_ context.Context, key, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.finish("release", key, token, stateReleased)
	if err != nil {
		return skipped(err)
	}
	r.state, r.expiresAt = stateReleased, s.o.now().Add(s.o.retention)
	return nil
}

// MarkUnknown implements Store.
func (s *MemoryStore) MarkUnknown(_ context.Context, key, token, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.finish("mark unknown", key, token, stateUnknown)
	if err != nil {
		return skipped(err)
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
