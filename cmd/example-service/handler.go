package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/smithy-go"
	"github.com/google/uuid"

	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/producer"
	"github.com/offload/offload/pkg/sms"
	"github.com/offload/offload/pkg/sms/phone"
)

// maxRequestBytes bounds a request body (an audit text is at most
// audit.MaxTextBytes).
const maxRequestBytes = audit.MaxTextBytes + 4096

// Publisher is what the service needs of *producer.Publisher.
type Publisher interface {
	Publish(ctx context.Context, msg producer.Message) (producer.Result, error)
}

// AuditStore is what the service needs of *audit.Store (the synchronous path).
type AuditStore interface {
	Put(ctx context.Context, r audit.Record) (audit.Outcome, error)
}

// service is the user-facing HTTP API: it offloads audit records and SMS to
// their queues and answers 202 once they are enqueued, or writes an audit
// record synchronously for comparison. Every write endpoint requires an API
// key (keys) and is rate-limited per key (limits).
type service struct {
	audit AuditStore
	auditQ,
	smsQ Publisher
	keys   KeyChecker
	limits *rateLimiter
	// requestTimeout bounds a write request's work (its SQS or DynamoDB
	// calls), below the server's WriteTimeout so the client hears the answer.
	requestTimeout time.Duration
	now            func() time.Time
	log            *slog.Logger
}

func (s *service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /audit", s.protect(http.HandlerFunc(s.postAudit)))
	mux.Handle("POST /audit/sync", s.protect(http.HandlerFunc(s.postAuditSync)))
	mux.Handle("POST /sms", s.protect(http.HandlerFunc(s.postSMS)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return mux
}

// auditRequest is the article's AuditMessage as a client posts it; messageId
// and auditTime are filled in when absent.
type auditRequest struct {
	MessageID string     `json:"messageId"`
	AuditText string     `json:"auditText"`
	AuditTime *time.Time `json:"auditTime"`
}

// decodeAudit reads an audit request and checks it with the consumer's own
// rules (audit.Limits.Decode), so nothing is enqueued that audit-receiver
// would dead-letter. The record's id is messageId or the Idempotency-Key
// header (they must agree); only when both are absent is one generated, as
// the article's service did.
func (s *service) decodeAudit(w http.ResponseWriter, r *http.Request) (audit.Message, bool) {
	var req auditRequest
	if err := decodeBody(r, &req); err != nil {
		writeBodyError(w, err)
		return audit.Message{}, false
	}
	id, err := idempotencyKey(r, req.MessageID, "messageId")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return audit.Message{}, false
	}
	if id == "" {
		id = uuid.NewString()
	}
	m := audit.Message{MessageID: id, AuditText: req.AuditText, AuditTime: s.now().UTC()}
	if req.AuditTime != nil {
		m.AuditTime = req.AuditTime.UTC()
	}
	body, err := json.Marshal(m)
	if err == nil {
		_, err = audit.Limits{Now: s.now}.Decode(body)
	}
	if err == nil && !queueText(string(body)) {
		err = errQueueText
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return audit.Message{}, false
	}
	return m, true
}

// postAudit offloads the audit record to the audit queue: 202 once enqueued.
func (s *service) postAudit(w http.ResponseWriter, r *http.Request) {
	m, ok := s.decodeAudit(w, r)
	if !ok {
		return
	}
	body, err := json.Marshal(m)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	start := time.Now()
	res, err := s.auditQ.Publish(r.Context(), producer.Message{Body: string(body), IdempotencyKey: m.MessageID})
	if err != nil {
		s.fail(w, "offload audit", m.MessageID, err)
		return
	}
	s.log.Info("audit offloaded", "message_id", m.MessageID, "api_key_id", keyID(r.Context()), "sqs_message_id", res.MessageID, "duration_ms", ms(time.Since(start)))
	writeJSON(w, http.StatusAccepted, map[string]string{"messageId": m.MessageID, "sqsMessageId": res.MessageID})
}

// postAuditSync writes the audit record to DynamoDB before answering, as the
// article's service did before offloading.
func (s *service) postAuditSync(w http.ResponseWriter, r *http.Request) {
	m, ok := s.decodeAudit(w, r)
	if !ok {
		return
	}
	start := time.Now()
	out, err := s.audit.Put(r.Context(), audit.Record{Key: m.MessageID, KeySource: "producer", Message: m})
	if err != nil {
		s.fail(w, "store audit", m.MessageID, err)
		return
	}
	status := http.StatusCreated
	if out == audit.Conflict {
		status = http.StatusConflict
	} else if out == audit.Duplicate {
		status = http.StatusOK
	}
	s.log.Info("audit stored synchronously", "message_id", m.MessageID, "api_key_id", keyID(r.Context()), "outcome", out.String(), "duration_ms", ms(time.Since(start)))
	writeJSON(w, status, map[string]string{"messageId": m.MessageID, "outcome": out.String()})
}

// smsBody is what POST /sms takes: an SMS request, the number in
// international form or, with region, in that region's national form.
type smsBody struct {
	sms.Request
	// Region is the ISO region of a national number ("GB" for "07400 123456").
	Region string `json:"region,omitempty"`
}

// postSMS validates an SMS request — the number against its numbering plan —
// and offloads it to the SMS queue in E.164 form. The request id is the
// client's (requestId or the Idempotency-Key header), never generated here: a
// client retrying after a lost 202 must send the same id again, or the
// retry would be a second text.
func (s *service) postSMS(w http.ResponseWriter, r *http.Request) {
	var in smsBody
	if err := decodeBody(r, &in); err != nil {
		writeBodyError(w, err)
		return
	}
	id, err := idempotencyKey(r, in.RequestID, "requestId")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if id == "" {
		writeError(w, http.StatusBadRequest, "an idempotency key is required: send requestId in the body or an "+
			headerIdempotencyKey+" header, and the same one again when you retry")
		return
	}
	req, err := phone.NewRequest(id, in.To, in.Body, in.SenderID, in.Region)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	body, err := json.Marshal(req)
	if err == nil && !queueText(string(body)) {
		err = errQueueText
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	start := time.Now()
	res, err := s.smsQ.Publish(r.Context(), producer.Message{Body: string(body), IdempotencyKey: req.RequestID})
	if err != nil {
		s.fail(w, "offload sms", req.RequestID, err)
		return
	}
	s.log.Info("sms offloaded", "request_id", req.RequestID, "api_key_id", keyID(r.Context()), "to", sms.MaskNumber(req.To), "sqs_message_id", res.MessageID, "duration_ms", ms(time.Since(start)))
	writeJSON(w, http.StatusAccepted, map[string]string{"requestId": req.RequestID, "sqsMessageId": res.MessageID})
}

// fail answers a failed enqueue or write: 413 when the message is too large
// for the queue (the producer's size guard or SQS itself said so: sending it
// again cannot help), else 503 (retry with the same id).
func (s *service) fail(w http.ResponseWriter, op, key string, err error) {
	if tooLarge(err) {
		s.log.Warn(op+" refused: too large", "key", key, "error", err)
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("%s %s: the message is too large for the queue: %v", op, key, sizeReason(err)))
		return
	}
	s.log.Error(op+" failed", "key", key, "error", err)
	writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("%s %s failed; retry with the same id", op, key))
}

// tooLarge reports whether err says the message was refused for its size:
// the producer's guard (producer.ErrTooLarge) or SQS's own check
// (InvalidParameterValue "... Message must be shorter than N bytes.").
func tooLarge(err error) bool {
	if errors.Is(err, producer.ErrTooLarge) {
		return true
	}
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidParameterValue" &&
		strings.Contains(apiErr.ErrorMessage(), "shorter than")
}

// sizeReason is the part of a size error a client may see: the sizes, not
// the queue's URL.
func sizeReason(err error) string {
	var se *producer.SizeError
	if errors.As(err, &se) {
		return se.Error()
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorMessage()
	}
	return "over the queue's limit"
}

// errBodyTooLarge is decodeBody's answer for a body over maxRequestBytes.
var errBodyTooLarge = fmt.Errorf("request body is larger than %d bytes", maxRequestBytes)

// decodeBody decodes exactly one JSON value from the body, which protect has
// already limited with http.MaxBytesReader.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			err = errors.New("one object expected")
		}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errBodyTooLarge
	}
	if err != nil {
		return fmt.Errorf("invalid JSON body: %w", err)
	}
	return nil
}

// writeBodyError answers a decodeBody error: 413 for a body over the limit,
// 400 otherwise.
func writeBodyError(w http.ResponseWriter, err error) {
	if errors.Is(err, errBodyTooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	writeError(w, http.StatusBadRequest, err.Error())
}

// headerIdempotencyKey is the request header that carries the idempotency
// key (IETF draft "The Idempotency-Key HTTP Header Field").
const headerIdempotencyKey = "Idempotency-Key"

// idempotencyKey returns the request's idempotency key: the body's field
// (named field, for the message) or the Idempotency-Key header, which must
// agree when both are given. "" means neither was given. The header may be a
// quoted string, as the IETF draft writes it.
func idempotencyKey(r *http.Request, inBody, field string) (string, error) {
	var fromHeader string
	for _, v := range r.Header.Values(headerIdempotencyKey) {
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		if fromHeader != "" && v != fromHeader {
			return "", fmt.Errorf("two different %s headers", headerIdempotencyKey)
		}
		fromHeader = v
	}
	key := inBody
	switch {
	case fromHeader == "":
	case inBody == "" || inBody == fromHeader:
		key = fromHeader
	default:
		return "", fmt.Errorf("%s in the body and the %s header differ: send one key, or the same in both", field, headerIdempotencyKey)
	}
	if !queueText(key) {
		return "", fmt.Errorf("the idempotency key (%s or %s) must be UTF-8 text without control characters", field, headerIdempotencyKey)
	}
	return key, nil
}

// queueText reports whether SQS can carry s in a body or message attribute:
// UTF-8 of #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF.
// Anything else SQS refuses, which would answer a client's input with 503.
func queueText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000:
		default:
			return false
		}
	}
	return true
}

// errQueueText answers a body whose text SQS could not carry.
var errQueueText = errors.New("the request contains characters a queue cannot carry (U+FFFE, U+FFFF or unpaired surrogates)")

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
