package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/offload/offload/pkg/message"
)

// Signup is the queue's message body: a user who just signed up.
type Signup struct {
	// UserID is the user's id, the idempotency key of the welcome.
	UserID string `json:"userId"`
	// Name is how the welcome addresses the user (1–64 characters).
	Name string `json:"name"`
}

// kind names the message in decode and validation errors.
const kind = "signup"

// Decode parses and validates one queue body. Its errors say their own
// failure class and that they are permanent (*message.DecodeError,
// *message.ValidationError): the handler returns them as they are and the
// record is dead-lettered with the error's message as its reason, so the
// messages name fields, never their values.
func Decode(body []byte) (Signup, error) {
	var s Signup
	if err := json.Unmarshal(body, &s); err != nil {
		return Signup{}, &message.DecodeError{Kind: kind, Err: err}
	}
	v := message.ValidationError{Kind: kind}
	if strings.TrimSpace(s.UserID) == "" {
		v.Add("userId", "is empty")
	}
	if n := utf8.RuneCountInString(s.Name); n == 0 || n > 64 {
		v.Add("name", fmt.Sprintf("has %d characters, want 1 to 64", n))
	}
	if err := v.Err(); err != nil {
		return Signup{}, err
	}
	return s, nil
}
