package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/smithy-go"
	"github.com/google/uuid"

	"github.com/offload/offload/pkg/audit"
	"github.com/offload/offload/pkg/logging"
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

// Enqueuer is what the service needs of *producer.AsyncPublisher: Publish
// puts the message in its buffer and returns its idempotency key; it is sent
// later.
type Enqueuer interface {
	Publish(ctx context.Context, msg producer.Message) (string, error)
}

// SMSSender is what the service needs of *sms.Sender (POST /sms/sync).
type SMSSender interface {
	Send(ctx context.Context, r sms.Request, opts ...sms.SendOption) (sms.Result, error)
}

// AuditStore is what the service needs of *audit.Store (the synchronous path).
type AuditStore interface {
	Put(ctx context.Context, r audit.Record) (audit.Outcome, error)
}

// service is the user-facing HTTP API: it offloads audit records and SMS to
// their queues and answers 202 once they are buffered (audit) or enqueued,
// or writes an audit record or sends a text synchronously for comparison.
// Every write endpoint requires an API key (keys) and is rate-limited per
// key (limits).
type service struct {
	audit AuditStore
	// auditAsync is POST /audit's buffer; auditQ (durable) answers after SQS
	// accepted.
	auditAsync Enqueuer
	auditQ,
	smsQ Publisher
	// smsSync sends POST /sms/sync's texts on the request path; nil: not
	// configured (501).
	smsSync SMSSender
	keys    KeyChecker
	limits  *rateLimiter
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
	mux.Handle("POST /sms/sync", s.protect(http.HandlerFunc(s.postSMSSync)))
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
// would dead-letter, and returns it with its queue body. The record's id is messageId or the Idempotency-Key
// header (they must agree); only when both are absent is one generated, as
// the article's service did.
func (s *service) decodeAudit(w http.ResponseWriter, r *http.Request) (audit.Message, string, bool) {
	req, id, ok := decodeKeyed(w, r, "messageId", func(b auditRequest) string { return b.MessageID })
	if !ok {
		return audit.Message{}, "", false
	}
	if id == "" {
		id = uuid.NewString()
	}
	m := audit.Message{MessageID: id, AuditText: req.AuditText, AuditTime: s.now().UTC()}
	if req.AuditTime != nil {
		m.AuditTime = req.AuditTime.UTC()
	}
	body, err := queueBody(m, func(b []byte) error {
		_, err := audit.Limits{Now: s.now}.Decode(b)
		return err
	})
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return audit.Message{}, "", false
	}
	return m, body, true
}

// postAudit offloads the audit record. By default it answers 202 once the
// record is in the audit buffer (auditAsync), before SQS has it: the request
// does not wait for the queue, and a crash before the next flush loses it.
// With ?durable=1 it answers 202 only after SQS accepted the message.
func (s *service) postAudit(w http.ResponseWriter, r *http.Request) {
	m, body, ok := s.decodeAudit(w, r)
	if !ok {
		return
	}
	if durable(r) {
		s.postAuditDurable(w, r, m, body)
		return
	}
	if _, err := s.auditAsync.Publish(r.Context(), producer.Message{Body: body, IdempotencyKey: m.MessageID}); err != nil {
		s.fail(w, "offload audit", m.MessageID, err)
		return
	}
	// One synchronous log write per record was a tenth of this path's CPU
	// (make bench-latency's profile): the success line is Debug here; a
	// record that is then not enqueued is logged at Error by the buffer.
	s.log.Debug("audit buffered", logging.FieldAuditID, m.MessageID, logging.FieldClientKeyID, keyID(r.Context()))
	writeJSON(w, http.StatusAccepted, map[string]string{"messageId": m.MessageID, "status": "queued"})
}

// durable reports whether the client asked to be answered only after SQS
// accepted the record (?durable=1 or ?durable=true).
func durable(r *http.Request) bool {
	if r.URL.RawQuery == "" {
		return false
	}
	switch r.URL.Query().Get("durable") {
	case "1", "true":
		return true
	}
	return false
}

// postAuditDurable enqueues the record on the request path: 202 once SQS
// accepted it, with its SQS MessageId.
func (s *service) postAuditDurable(w http.ResponseWriter, r *http.Request, m audit.Message, body string) {
	start := time.Now()
	res, err := s.auditQ.Publish(r.Context(), producer.Message{Body: body, IdempotencyKey: m.MessageID})
	if err != nil {
		s.fail(w, "offload audit", m.MessageID, err)
		return
	}
	s.log.Info("audit offloaded", logging.FieldAuditID, m.MessageID, logging.FieldClientKeyID, keyID(r.Context()), logging.FieldMessageID, res.MessageID, "duration_ms", ms(time.Since(start)))
	writeJSON(w, http.StatusAccepted, map[string]string{"messageId": m.MessageID, "sqsMessageId": res.MessageID, "status": "enqueued"})
}

// postAuditSync writes the audit record to DynamoDB before answering, as the
// article's service did before offloading.
func (s *service) postAuditSync(w http.ResponseWriter, r *http.Request) {
	m, _, ok := s.decodeAudit(w, r)
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
	s.log.Info("audit stored synchronously", logging.FieldAuditID, m.MessageID, logging.FieldClientKeyID, keyID(r.Context()), "outcome", out.String(), "duration_ms", ms(time.Since(start)))
	writeJSON(w, status, map[string]string{"messageId": m.MessageID, "outcome": out.String()})
}

// smsBody is what POST /sms takes: an SMS request, the number in
// international form or, with region, in that region's national form.
type smsBody struct {
	sms.Request
	// Region is the ISO region of a national number ("GB" for "07400 123456").
	Region string `json:"region,omitempty"`
}

// decodeSMS reads and validates an SMS request — the number against its
// numbering plan — for /sms and /sms/sync alike, and returns it in E.164
// form with its queue body. The request id is the client's (requestId or the
// Idempotency-Key header), never generated here: a client retrying after a
// lost answer must send the same id again, or the retry would be a second
// text.
func decodeSMS(w http.ResponseWriter, r *http.Request) (sms.Request, string, bool) {
	in, id, ok := decodeKeyed(w, r, "requestId", func(b smsBody) string { return b.RequestID })
	if !ok {
		return sms.Request{}, "", false
	}
	if id == "" {
		writeError(w, http.StatusBadRequest, "an idempotency key is required: send requestId in the body or an "+
			headerIdempotencyKey+" header, and the same one again when you retry")
		return sms.Request{}, "", false
	}
	req, err := phone.NewRequest(id, in.To, in.Body, in.SenderID, in.Region)
	var body string
	if err == nil {
		body, err = queueBody(req, nil)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return sms.Request{}, "", false
	}
	return req, body, true
}

// postSMS offloads a validated SMS request to the SMS queue in E.164 form:
// 202 once SQS accepted it (sms-sender sends it once).
func (s *service) postSMS(w http.ResponseWriter, r *http.Request) {
	req, body, ok := decodeSMS(w, r)
	if !ok {
		return
	}
	start := time.Now()
	res, err := s.smsQ.Publish(r.Context(), producer.Message{Body: body, IdempotencyKey: req.RequestID})
	if err != nil {
		s.fail(w, "offload sms", req.RequestID, err)
		return
	}
	s.log.Info("sms offloaded", logging.FieldSMSRequestID, req.RequestID, logging.FieldClientKeyID, keyID(r.Context()), "to", sms.MaskNumber(req.To), logging.FieldMessageID, res.MessageID, "duration_ms", ms(time.Since(start)))
	writeJSON(w, http.StatusAccepted, map[string]string{"requestId": req.RequestID, "sqsMessageId": res.MessageID})
}

// postSMSSync sends the same validated request to the provider on the
// request path, as a service that does not offload would: the client waits
// for the provider's answer. 201 when sent now, 200 when this process sent
// the same request before (its idempotency record is in memory), 409 when
// the id was used for another text, 422 when the provider refused it, 502
// when its outcome is unknown (never resent), 503 with Retry-After when the
// provider throttled or another request with the same id is being sent.
func (s *service) postSMSSync(w http.ResponseWriter, r *http.Request) {
	if s.smsSync == nil {
		writeError(w, http.StatusNotImplemented, "POST /sms/sync is not configured (--twilio-secret)")
		return
	}
	req, _, ok := decodeSMS(w, r)
	if !ok {
		return
	}
	start := time.Now()
	res, err := s.smsSync.Send(r.Context(), req)
	if err != nil {
		s.failSMSSync(w, req, err, time.Since(start))
		return
	}
	status := http.StatusCreated
	if res.Status == sms.AlreadySent {
		status = http.StatusOK
	}
	s.log.Info("sms sent synchronously", logging.FieldSMSRequestID, req.RequestID, logging.FieldClientKeyID, keyID(r.Context()), "to", sms.MaskNumber(req.To),
		"provider", res.Receipt.Provider, "status", res.Status.String(), "duration_ms", ms(time.Since(start)))
	writeJSON(w, status, map[string]string{"requestId": req.RequestID, "status": res.Status.String(),
		"provider": res.Receipt.Provider, "providerMessageId": res.Receipt.ID})
}

// failSMSSync answers a failed synchronous send. The provider's messages
// are safe to show: numbers in them are masked.
func (s *service) failSMSSync(w http.ResponseWriter, req sms.Request, err error, took time.Duration) {
	var unknown *sms.UnknownOutcomeError
	status, msg := http.StatusServiceUnavailable, "send sms "+req.RequestID+" failed; retry with the same id"
	switch {
	case errors.Is(err, sms.ErrConflict):
		status, msg = http.StatusConflict, "requestId "+req.RequestID+" was used for another text"
	case errors.Is(err, sms.ErrInProgress):
		w.Header().Set("Retry-After", "1")
		msg = "sms " + req.RequestID + " is being sent by another request; retry with the same id"
	case errors.As(err, &unknown):
		status, msg = http.StatusBadGateway, "sms "+req.RequestID+": the provider may or may not have sent it; it is not sent again"
	case sms.KindOf(err) == sms.Rejected:
		status, msg = http.StatusUnprocessableEntity, "the provider refused sms "+req.RequestID+": "+err.Error()
	case sms.KindOf(err) == sms.Retryable:
		wait, ok := sms.RetryAfterOf(err)
		if !ok {
			wait = time.Second
		}
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
	}
	s.log.Warn("sms sync send failed", logging.FieldSMSRequestID, req.RequestID, "to", sms.MaskNumber(req.To), "status", status, "error", err, "duration_ms", ms(took))
	writeError(w, status, msg)
}

// fail answers a failed enqueue or write: 413 when the message is too large
// for the queue (the producer's size guard or SQS itself said so: sending it
// again cannot help), 503 with Retry-After when the audit buffer is full,
// else 503 (retry with the same id).
func (s *service) fail(w http.ResponseWriter, op, key string, err error) {
	if tooLarge(err) {
		s.log.Warn(op+" refused: too large", logging.FieldIdempotencyKey, key, "error", err)
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("%s %s: the message is too large for the queue: %v", op, key, sizeReason(err)))
		return
	}
	if errors.Is(err, producer.ErrBufferFull) || errors.Is(err, producer.ErrClosed) {
		// Back-pressure: SQS is slower than the requests arrive (or the
		// service is stopping). Nothing was accepted.
		s.log.Warn(op+" refused: buffer full", logging.FieldIdempotencyKey, key, "error", err)
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("%s %s: the service is busy; retry with the same id after Retry-After seconds", op, key))
		return
	}
	s.log.Error(op+" failed", logging.FieldIdempotencyKey, key, "error", err)
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

// decodeKeyed decodes the request body into a T and resolves its
// idempotency key from the body's field (named field, read by key) and the
// Idempotency-Key header; when either fails it answers the request itself
// and returns false.
func decodeKeyed[T any](w http.ResponseWriter, r *http.Request, field string, key func(T) string) (T, string, bool) {
	var in T
	if err := decodeBody(r, &in); err != nil {
		writeBodyError(w, err)
		return in, "", false
	}
	id, err := idempotencyKey(r, key(in), field)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return in, "", false
	}
	return in, id, true
}

// queueBody is v as the queue body its consumer reads, refused when check
// (the consumer's own decoder; nil: none) refuses it or when SQS could not
// carry its text.
func queueBody(v any, check func([]byte) error) (string, error) {
	body, err := json.Marshal(v)
	if err == nil && check != nil {
		err = check(body)
	}
	if err == nil && !queueText(string(body)) {
		err = errQueueText
	}
	return string(body), err
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
