// Package twiliofake is a Twilio-compatible SMS provider for local fault
// campaigns (cmd/offload-chaos): it speaks the part of Twilio's Messages API
// that pkg/sms.Twilio uses, records every message it accepted, and fails on
// request in the ways a real provider edge does — after accepting (HTTP 500,
// or no answer at all) or before (429 with Retry-After).
//
// It can also answer with a provider's latency (Options.Latency, e.g.
// LogNormal): the example service's /sms/sync calls it on the request path
// in `make run` and `make bench-latency` (cmd/offload-twilio-fake).
//
// It binds 127.0.0.1 (on a free port unless Options.Addr says otherwise).
package twiliofake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Mode is what the server does with one matching message.
type Mode string

// Fault modes.
const (
	// AcceptThen500 records the message, then answers 500 (a Twilio edge
	// that accepted and still failed).
	AcceptThen500 Mode = "accept-then-500"
	// AcceptThenHang records the message, then answers nothing until the
	// client gives up (or Hang has passed, then 500).
	AcceptThenHang Mode = "accept-then-hang"
	// Throttle answers 429 with Retry-After before accepting anything.
	Throttle Mode = "throttle"
)

// Accepted is one message the server accepted.
type Accepted struct {
	// Key is the request id the message was recorded under: the first match
	// of Server.KeyPattern in the body, else the whole body.
	Key string
	// SID is the message sid the server assigned.
	SID string
	// To, From, MessagingServiceSID and Body are the form fields.
	To, From, MessagingServiceSID, Body string
	// Answered says whether the client was told it was accepted (201).
	Answered bool
	// At is when it was accepted.
	At time.Time
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL to give the client (TWILIO_API_URL).
	URL string
	// AccountSID and AuthToken are the credentials it accepts (basic auth).
	AccountSID, AuthToken string

	keyPattern *regexp.Regexp
	latency    func() time.Duration
	keep       int
	hang       time.Duration
	retryAfter int
	srv        *http.Server
	ln         net.Listener

	mu       sync.Mutex
	accepted []Accepted
	faults   map[string]Mode // by key; consumed once
	fired    map[Mode]int
	requests int
}

// Options configure a Server.
type Options struct {
	// AccountSID and AuthToken are the accepted credentials (required).
	AccountSID, AuthToken string
	// KeyPattern finds the request id in a message body (optional).
	KeyPattern *regexp.Regexp
	// Hang caps how long AcceptThenHang holds an answer (default 15 s).
	Hang time.Duration
	// RetryAfterSeconds is Throttle's Retry-After (default 1).
	RetryAfterSeconds int
	// Latency, when set, is drawn once per request and waited before the
	// answer (after the message is accepted), as a provider's API takes
	// time to answer. Nil: answer at once.
	Latency func() time.Duration
	// Addr is the address to listen on (default 127.0.0.1:0, a free port).
	Addr string
	// KeepAccepted bounds how many accepted messages Accepted returns (the
	// newest); 0 keeps all. A long-running stand-in sets it.
	KeepAccepted int
}

// LogNormal returns a latency distribution whose median and 99th percentile
// are the given ones: log-normal with mu = ln(median) and sigma =
// ln(p99/median)/z(0.99). Draws are capped at max (0: 30 s) so that one
// draw from the tail cannot outlast every client timeout. It is safe for
// concurrent use.
func LogNormal(median, p99, max time.Duration) (func() time.Duration, error) {
	if median <= 0 || p99 < median {
		return nil, fmt.Errorf("twiliofake: log-normal latency needs 0 < median <= p99, got median %s p99 %s", median, p99)
	}
	if max <= 0 {
		max = 30 * time.Second
	}
	mu := math.Log(float64(median))
	sigma := math.Log(float64(p99)/float64(median)) / z99
	return func() time.Duration {
		d := time.Duration(math.Exp(mu + sigma*mrand.NormFloat64()))
		return min(d, max)
	}, nil
}

// z99 is the standard normal distribution's 99th percentile.
const z99 = 2.3263478740408408

// Start listens on 127.0.0.1 on a free port and serves until Close.
func Start(o Options) (*Server, error) {
	if o.AccountSID == "" || o.AuthToken == "" {
		return nil, fmt.Errorf("twiliofake: AccountSID and AuthToken are required")
	}
	addr := o.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("twiliofake: listen: %w", err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), AccountSID: o.AccountSID, AuthToken: o.AuthToken,
		keyPattern: o.KeyPattern, latency: o.Latency, keep: o.KeepAccepted, hang: o.Hang, retryAfter: o.RetryAfterSeconds, ln: ln,
		faults: map[string]Mode{}, fired: map[Mode]int{}}
	if s.hang <= 0 {
		s.hang = 15 * time.Second
	}
	if s.retryAfter <= 0 {
		s.retryAfter = 1
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{sid}/Messages.json", s.messages)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server; hanging answers are cut.
func (s *Server) Close() error { return s.srv.Close() }

// Fail makes the next message recorded under key meet mode (once).
func (s *Server) Fail(key string, mode Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[key] = mode
}

// Accepted returns every accepted message (the newest KeepAccepted when
// that is set), oldest first.
func (s *Server) Accepted() []Accepted {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accepted
	if s.keep > 0 && len(a) > s.keep {
		a = a[len(a)-s.keep:]
	}
	return append([]Accepted(nil), a...)
}

// Fired returns how often each mode was applied.
func (s *Server) Fired() map[Mode]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[Mode]int, len(s.fired))
	for k, v := range s.fired {
		out[k] = v
	}
	return out
}

// Requests returns how many message requests arrived (accepted or not).
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) messages(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != s.AccountSID || pass != s.AuthToken || r.PathValue("sid") != s.AccountSID {
		writeJSON(w, http.StatusUnauthorized, apiError{Code: 20003, Message: "Authenticate", Status: 401})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Code: 21100, Message: "bad form: " + err.Error(), Status: 400})
		return
	}
	to, body := r.PostForm.Get("To"), r.PostForm.Get("Body")
	from, msid := r.PostForm.Get("From"), r.PostForm.Get("MessagingServiceSid")
	switch {
	case !strings.HasPrefix(to, "+") || len(to) < 8:
		writeJSON(w, http.StatusBadRequest, apiError{Code: 21211, Message: "The 'To' number is not a valid phone number.", Status: 400})
		return
	case body == "":
		writeJSON(w, http.StatusBadRequest, apiError{Code: 21602, Message: "Message body is required.", Status: 400})
		return
	case from == "" && msid == "":
		writeJSON(w, http.StatusBadRequest, apiError{Code: 21603, Message: "A 'From' or 'MessagingServiceSid' parameter is required.", Status: 400})
		return
	}
	key := body
	if s.keyPattern != nil {
		if m := s.keyPattern.FindString(body); m != "" {
			key = m
		}
	}

	s.mu.Lock()
	s.requests++
	mode, faulted := s.faults[key]
	if faulted {
		delete(s.faults, key)
		s.fired[mode]++
	}
	if mode == Throttle {
		s.mu.Unlock()
		w.Header().Set("Retry-After", fmt.Sprint(s.retryAfter))
		writeJSON(w, http.StatusTooManyRequests, apiError{Code: 20429, Message: "Too Many Requests", Status: 429})
		return
	}
	sid := "SM" + randomHex(16)
	s.accepted = append(s.accepted, Accepted{Key: key, SID: sid, To: to, From: from, MessagingServiceSID: msid, Body: body,
		Answered: !faulted, At: time.Now()})
	if s.keep > 0 && len(s.accepted) > 2*s.keep {
		s.accepted = append(s.accepted[:0], s.accepted[len(s.accepted)-s.keep:]...)
	}
	s.mu.Unlock()

	if s.latency != nil {
		t := time.NewTimer(s.latency())
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}

	switch mode {
	case AcceptThen500:
		writeJSON(w, http.StatusInternalServerError, apiError{Code: 20500, Message: "Internal Server Error", Status: 500})
		return
	case AcceptThenHang:
		select {
		case <-r.Context().Done():
		case <-time.After(s.hang):
			writeJSON(w, http.StatusInternalServerError, apiError{Code: 20500, Message: "Internal Server Error", Status: 500})
		}
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"sid": sid, "account_sid": s.AccountSID, "to": to, "from": from, "messaging_service_sid": msid,
		"body": body, "status": "queued", "num_segments": "1", "direction": "outbound-api",
		"uri": "/2010-04-01/Accounts/" + s.AccountSID + "/Messages/" + sid + ".json",
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
