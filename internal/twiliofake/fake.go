// Package twiliofake is a Twilio-compatible SMS provider for local fault
// campaigns (cmd/offload-chaos): it speaks the part of Twilio's Messages API
// that pkg/sms.Twilio uses, records every message it accepted, and fails on
// request in the ways a real provider edge does — after accepting (HTTP 500,
// or no answer at all) or before (429 with Retry-After).
//
// Only the campaign uses it; it binds 127.0.0.1 on a free port.
package twiliofake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
}

// Start listens on 127.0.0.1 on a free port and serves until Close.
func Start(o Options) (*Server, error) {
	if o.AccountSID == "" || o.AuthToken == "" {
		return nil, fmt.Errorf("twiliofake: AccountSID and AuthToken are required")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("twiliofake: listen: %w", err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), AccountSID: o.AccountSID, AuthToken: o.AuthToken,
		keyPattern: o.KeyPattern, hang: o.Hang, retryAfter: o.RetryAfterSeconds, ln: ln,
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

// Accepted returns every accepted message, oldest first.
func (s *Server) Accepted() []Accepted {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Accepted(nil), s.accepted...)
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
	s.mu.Unlock()

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
