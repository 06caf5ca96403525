// Package chaos is offload's seeded fault campaign (make chaos,
// cmd/offload-chaos): it drives audit records and SMS requests through the
// local stack while injecting, on a schedule drawn from a seed, what real
// AWS, a real SMS provider and Lambda do now and then, and then accounts for
// every request id (docs/reliability.md).
package chaos

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
)

// Kind is the pipeline a request goes through.
type Kind string

// Pipelines.
const (
	Audit Kind = "audit"
	SMS   Kind = "sms"
)

// Class is a fault class.
type Class string

// Fault classes, in the order the report prints them.
const (
	// DDBThrottle: DynamoDB answers ProvisionedThroughputExceededException
	// (400) before doing the write, Count times.
	DDBThrottle Class = "ddb-throttle"
	// DDB5xx: DynamoDB answers InternalServerError (500) before the write.
	DDB5xx Class = "ddb-5xx"
	// DDBCommitLost: the write commits, the answer is a 500 (the SDK retries
	// and meets its own write).
	DDBCommitLost Class = "ddb-commit-answer-lost"
	// LatencySpike: the write commits and its answer is held past the
	// invocation's deadline (the functions' SDK calls are bounded by it).
	LatencySpike Class = "latency-spike"
	// FunctionTimeout: a call hangs longer than the function timeout (no
	// work done); the runtime kills the function, the batch comes back.
	FunctionTimeout Class = "function-timeout"
	// FunctionKill: the function's processes are SIGKILLed while a call of
	// the target request is in flight (mid-batch).
	FunctionKill Class = "function-sigkill"
	// SQSDuplicate: a DeleteMessageBatch of the target queue hangs past the
	// runtime's delete timeout, so the batch's visibility expires and SQS
	// delivers it again.
	SQSDuplicate Class = "sqs-duplicate-delivery"
	// ProviderAccept500: the SMS provider accepts the text, then answers 500.
	ProviderAccept500 Class = "provider-accept-then-500"
	// ProviderAcceptTimeout: the provider accepts, then never answers (the
	// client or the function times out).
	ProviderAcceptTimeout Class = "provider-accept-then-timeout"
	// ProviderThrottle: the provider answers 429 with Retry-After, before
	// accepting.
	ProviderThrottle Class = "provider-throttle-429"
	// DLQRedrive: `offload dlq redrive` of the target's DLQ while traffic flows.
	DLQRedrive Class = "dlq-redrive"
)

// Classes lists every fault class in report order.
var Classes = []Class{DDBThrottle, DDB5xx, DDBCommitLost, LatencySpike, FunctionTimeout, FunctionKill,
	SQSDuplicate, ProviderAccept500, ProviderAcceptTimeout, ProviderThrottle, DLQRedrive}

// Request is one audit record or SMS request the campaign publishes.
type Request struct {
	// Kind is the pipeline.
	Kind Kind `json:"kind"`
	// ID is the audit messageId or the SMS requestId (also the idempotency
	// key). Every ID has the same length, so no ID is a substring of another.
	ID string `json:"id"`
	// Retry says the producer sends it a second time under the same key (a
	// client that did not see the first answer).
	Retry bool `json:"retry,omitempty"`
}

// Fault is one injection.
type Fault struct {
	// Class is the fault class.
	Class Class `json:"class"`
	// Kind is the pipeline it hits.
	Kind Kind `json:"kind"`
	// Target is the request ID it matches; empty for queue-level faults
	// (SQSDuplicate, DLQRedrive), which hit Kind's queue.
	Target string `json:"target,omitempty"`
	// Count is how many matching calls it applies to.
	Count int `json:"count"`
	// After is the number of requests published before it is armed.
	After int `json:"after"`
}

// Schedule is what one campaign does, drawn from its seed.
type Schedule struct {
	// Seed is the seed it was drawn from.
	Seed uint64 `json:"seed"`
	// Requests in publishing order.
	Requests []Request `json:"requests"`
	// Bursts are the sizes of the bursts Requests are published in (they sum
	// to len(Requests)).
	Bursts []int `json:"bursts"`
	// PausesMS are the pauses after each burst, in milliseconds.
	PausesMS []int `json:"pausesMs"`
	// Faults in arming order.
	Faults []Fault `json:"faults"`
}

// NewSchedule draws a campaign of nAudit audit records and nSMS SMS requests
// from seed. The same arguments give the same schedule (math/rand/v2 PCG).
// Every fault class occurs at least once when there are at least 20
// requests of each kind.
func NewSchedule(seed uint64, nAudit, nSMS int) Schedule {
	rng := rand.New(rand.NewPCG(seed, seed^0x6f66666c6f6164)) // "offload"
	s := Schedule{Seed: seed}
	for i := range nAudit {
		s.Requests = append(s.Requests, Request{Kind: Audit, ID: fmt.Sprintf("chaos-a-%06d", i)})
	}
	for i := range nSMS {
		s.Requests = append(s.Requests, Request{Kind: SMS, ID: fmt.Sprintf("chaos-s-%06d", i)})
	}
	rng.Shuffle(len(s.Requests), func(i, j int) { s.Requests[i], s.Requests[j] = s.Requests[j], s.Requests[i] })
	for i := range s.Requests {
		s.Requests[i].Retry = rng.Float64() < 0.08
	}
	for left := len(s.Requests); left > 0; {
		b := min(left, 1+rng.IntN(40))
		s.Bursts = append(s.Bursts, b)
		s.PausesMS = append(s.PausesMS, rng.IntN(1500))
		left -= b
	}

	// One fault at most per request, drawn per request: about 15 % of the
	// audit writes and 30 % of the SMS requests.
	n := len(s.Requests)
	faulted := map[string]bool{}
	add := func(f Fault) {
		s.Faults = append(s.Faults, f)
		if f.Target != "" {
			faulted[f.Target] = true
		}
	}
	for _, r := range s.Requests {
		p := rng.Float64()
		f := Fault{Kind: r.Kind, Target: r.ID, Count: 1}
		for _, m := range faultMix[r.Kind] {
			if p < m.below {
				f.Class = m.class
				break
			}
		}
		switch f.Class {
		case DDBThrottle:
			f.Count = throttleCount(rng)
		case DDB5xx:
			f.Count = 1 + rng.IntN(2)
		}
		if f.Class != "" {
			add(f)
		}
	}
	// Kills and duplicate deliveries: about one per 150 and 100 requests of
	// a kind, armed at points spread over the run.
	for _, k := range []Kind{Audit, SMS} {
		ids := idsOf(s.Requests, k, faulted)
		count := len(ids)
		for range max(1, count/150) {
			if len(ids) == 0 {
				break
			}
			j := rng.IntN(len(ids))
			add(Fault{Class: FunctionKill, Kind: k, Target: ids[j], Count: 1})
			ids = slices.Delete(ids, j, j+1)
		}
		for range max(1, count/100) {
			add(Fault{Class: SQSDuplicate, Kind: k, Count: 1, After: rng.IntN(max(1, n*9/10))})
		}
	}
	add(Fault{Class: DLQRedrive, Kind: SMS, Count: 1, After: n * 3 / 5})

	// Every class at least once, request-level ones twice (a target can be
	// cut short by another fault in its batch): give a missing one to an
	// unfaulted request.
	for _, c := range Classes {
		want := 2
		if c == SQSDuplicate || c == DLQRedrive {
			want = 1
		}
		for s.Injected()[c] < want {
			k := SMS
			if c != ProviderAccept500 && c != ProviderAcceptTimeout && c != ProviderThrottle && rng.IntN(2) == 0 {
				k = Audit
			}
			ids := idsOf(s.Requests, k, faulted)
			if len(ids) == 0 {
				break
			}
			add(Fault{Class: c, Kind: k, Target: ids[rng.IntN(len(ids))], Count: 1})
		}
	}
	// Request-level faults are armed before the traffic; queue-level ones
	// at their point.
	slices.SortStableFunc(s.Faults, func(a, b Fault) int { return a.After - b.After })
	return s
}

// throttleCount is 1 or 2 mostly (the SDK's own retries absorb them), 3
// sometimes (the record fails once and comes back from SQS).
// faultMix is, per kind, the fault a request draws: the first class whose
// bound its draw is below (bounds cumulative; above the last, none).
var faultMix = map[Kind][]struct {
	below float64
	class Class
}{
	Audit: {{0.06, DDBThrottle}, {0.11, DDB5xx}, {0.14, DDBCommitLost}, {0.148, LatencySpike}, {0.155, FunctionTimeout}},
	SMS: {{0.05, DDBThrottle}, {0.09, DDB5xx}, {0.12, DDBCommitLost}, {0.13, LatencySpike}, {0.135, FunctionTimeout},
		{0.20, ProviderAccept500}, {0.24, ProviderAcceptTimeout}, {0.30, ProviderThrottle}},
}

func throttleCount(rng *rand.Rand) int {
	if rng.IntN(6) == 0 {
		return 3
	}
	return 1 + rng.IntN(2)
}

func idsOf(rs []Request, k Kind, skip map[string]bool) []string {
	var ids []string
	for _, r := range rs {
		if r.Kind == k && !skip[r.ID] {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// Digest is a short hash of the schedule: the same seed and sizes give the
// same digest, so two runs can be compared at a glance.
func (s Schedule) Digest() string {
	b, _ := json.Marshal(s)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// Count returns how many requests of kind k the schedule holds (0: all).
func (s Schedule) Count(k Kind) int {
	n := 0
	for _, r := range s.Requests {
		if k == "" || r.Kind == k {
			n++
		}
	}
	return n
}

// Injected returns the number of faults per class.
func (s Schedule) Injected() map[Class]int {
	m := map[Class]int{}
	for _, f := range s.Faults {
		m[f.Class]++
	}
	return m
}

// Campaign sizes.
const (
	// DefaultSeed is the seed when none is given.
	DefaultSeed uint64 = 20261201
	// ShortAudit and ShortSMS are the short run's sizes (make test).
	ShortAudit = 150
	ShortSMS   = 60
)
