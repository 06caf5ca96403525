package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

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
// record synchronously for comparison.
type service struct {
	audit AuditStore
	auditQ,
	smsQ Publisher
	now func() time.Time
	log *slog.Logger
}

func (s *service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /audit", s.postAudit)
	mux.HandleFunc("POST /audit/sync", s.postAuditSync)
	mux.HandleFunc("POST /sms", s.postSMS)
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

func (s *service) decodeAudit(w http.ResponseWriter, r *http.Request) (audit.Message, bool) {
	var req auditRequest
	if err := decodeBody(w, r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return audit.Message{}, false
	}
	if req.AuditText == "" {
		writeError(w, http.StatusBadRequest, "auditText is required")
		return audit.Message{}, false
	}
	m := audit.Message{MessageID: req.MessageID, AuditText: req.AuditText, AuditTime: s.now().UTC()}
	if m.MessageID == "" {
		m.MessageID = newID()
	}
	if req.AuditTime != nil {
		m.AuditTime = req.AuditTime.UTC()
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
	s.log.Info("audit offloaded", "message_id", m.MessageID, "sqs_message_id", res.MessageID, "duration_ms", ms(time.Since(start)))
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
	s.log.Info("audit stored synchronously", "message_id", m.MessageID, "outcome", out.String(), "duration_ms", ms(time.Since(start)))
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
// and offloads it to the SMS queue in E.164 form.
func (s *service) postSMS(w http.ResponseWriter, r *http.Request) {
	var in smsBody
	if err := decodeBody(w, r, &in); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if in.RequestID == "" {
		in.RequestID = newID()
	}
	req, err := phone.NewRequest(in.RequestID, in.To, in.Body, in.SenderID, in.Region)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	body, err := json.Marshal(req)
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
	s.log.Info("sms offloaded", "request_id", req.RequestID, "to", sms.MaskNumber(req.To), "sqs_message_id", res.MessageID, "duration_ms", ms(time.Since(start)))
	writeJSON(w, http.StatusAccepted, map[string]string{"requestId": req.RequestID, "sqsMessageId": res.MessageID})
}

func (s *service) fail(w http.ResponseWriter, op, key string, err error) {
	s.log.Error(op+" failed", "key", key, "error", err)
	writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("%s %s failed; retry with the same id", op, key))
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("invalid JSON body: one object expected")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// newID returns a random UUID (version 4).
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
