package localrt

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// maxResponseBytes is Lambda's synchronous response payload limit.
const maxResponseBytes = 6 << 20

// FunctionError is a failed invoke as Lambda reports it: the error type
// (the function's own, or Sandbox.Timedout, Runtime.ExitError, …), its
// message, and the raw error payload the runtime posted.
type FunctionError struct {
	Type    string
	Message string
	Payload []byte
}

// Error is "<errorType>: <errorMessage>", as Lambda reports a function error.
func (e *FunctionError) Error() string {
	return fmt.Sprintf("%s: %s", e.Type, e.Message)
}

// invocation is one event handed to an execution environment.
type invocation struct {
	requestID   string
	payload     []byte
	traceID     string
	functionARN string
	timeout     time.Duration
	// deadline, when set, is the invoke's deadline instead of now+timeout
	// when the runtime picks it up (an init retried at the first invoke
	// counts against that invoke's timeout).
	deadline time.Time

	// delivered receives the deadline when the runtime picks the event up.
	delivered chan time.Time
	// result receives the response or the error the runtime posted.
	result chan outcome
}

type outcome struct {
	payload []byte
	err     *FunctionError
}

func newInvocation(requestID string, payload []byte, traceID, functionARN string, timeout time.Duration) *invocation {
	return &invocation{
		requestID:   requestID,
		payload:     payload,
		traceID:     traceID,
		functionARN: functionARN,
		timeout:     timeout,
		delivered:   make(chan time.Time, 1),
		result:      make(chan outcome, 1),
	}
}

// runtimeAPI is the Lambda Runtime API of one execution environment.
type runtimeAPI struct {
	ln  net.Listener
	srv *http.Server

	// pending hands an invocation to the runtime's next /next call.
	pending chan *invocation
	// ready is closed on the first /next call: the end of init.
	ready     chan struct{}
	readyOnce sync.Once
	readyAt   time.Time
	// initErr receives an error posted to /runtime/init/error.
	initErr chan *FunctionError
	// onDeliver runs when the runtime picks up an invocation (START line).
	onDeliver func(*invocation)
	// freeze and thaw stop and continue the environment's processes: the
	// runtime asked for the next event with no invoke in flight (Lambda
	// freezes the environment then), and an invoke arrived. Nil: no freezing.
	freeze, thaw func()

	mu sync.Mutex
	// current holds the invocations the runtime has picked up and not
	// answered yet (several when AWS_LAMBDA_MAX_CONCURRENCY > 1).
	current    map[string]*invocation
	frozen     bool
	extensions int
	closed     chan struct{}
	closeOnce  sync.Once
}

// newRuntimeAPI starts a Runtime API server on 127.0.0.1 on an ephemeral port.
func newRuntimeAPI(fn Function, onDeliver func(*invocation)) (*runtimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for runtime API of %s: %w", fn.Name, err)
	}
	a := &runtimeAPI{
		ln:        ln,
		pending:   make(chan *invocation),
		ready:     make(chan struct{}),
		initErr:   make(chan *FunctionError, 1),
		onDeliver: onDeliver,
		current:   map[string]*invocation{},
		closed:    make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", a.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", a.response)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", a.invokeError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", a.initError)
	mux.HandleFunc("POST /2020-01-01/extension/register", func(w http.ResponseWriter, r *http.Request) {
		a.register(w, r, fn)
	})
	mux.HandleFunc("GET /2020-01-01/extension/event/next", a.extensionNext)
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.srv.Serve(ln) }()
	return a, nil
}

// Addr is the host:port for AWS_LAMBDA_RUNTIME_API.
func (a *runtimeAPI) Addr() string { return a.ln.Addr().String() }

// hasExtensions reports whether an extension registered (aws-lambda-go's
// WithEnableSIGTERM does): Lambda then sends SIGTERM before SIGKILL.
func (a *runtimeAPI) hasExtensions() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.extensions > 0
}

func (a *runtimeAPI) close() {
	a.closeOnce.Do(func() {
		close(a.closed)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = a.srv.Shutdown(ctx)
		_ = a.srv.Close()
	})
}

func (a *runtimeAPI) next(w http.ResponseWriter, r *http.Request) {
	a.readyOnce.Do(func() {
		a.readyAt = time.Now()
		close(a.ready)
	})
	var inv *invocation
	select {
	case inv = <-a.pending:
	default:
		// Nothing to hand out: with no invoke in flight the environment is
		// idle, and Lambda freezes it until the next invoke arrives.
		a.freezeIfIdle()
		select {
		case inv = <-a.pending:
		case <-r.Context().Done():
			return
		case <-a.closed:
			http.Error(w, "environment shutting down", http.StatusGone)
			return
		}
	}
	deadline := time.Now().Add(inv.timeout)
	if !inv.deadline.IsZero() {
		deadline = inv.deadline
	}
	// In flight and thawed in one step: another /next (a concurrent invoke
	// loop) must not see the environment idle and freeze it in between.
	a.mu.Lock()
	a.current[inv.requestID] = inv
	if a.frozen {
		a.thaw()
		a.frozen = false
	}
	a.mu.Unlock()
	if a.onDeliver != nil {
		a.onDeliver(inv)
	}
	inv.delivered <- deadline
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.requestID)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.functionARN)
	if inv.traceID != "" {
		h.Set("Lambda-Runtime-Trace-Id", inv.traceID)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
}

// freezeIfIdle freezes the environment when no invoke is in flight.
func (a *runtimeAPI) freezeIfIdle() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.frozen && len(a.current) == 0 && a.freeze != nil {
		a.freeze()
		a.frozen = true
	}
}

// take returns the current invocation when id matches it, and forgets it.
func (a *runtimeAPI) take(id string) *invocation {
	a.mu.Lock()
	defer a.mu.Unlock()
	inv := a.current[id]
	delete(a.current, id)
	return inv
}

func (a *runtimeAPI) response(w http.ResponseWriter, r *http.Request) {
	inv := a.take(r.PathValue("id"))
	if inv == nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "unknown or completed request id")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxResponseBytes+1))
	switch {
	case err != nil:
		inv.result <- outcome{err: &FunctionError{Type: "Runtime.InvalidResponse", Message: err.Error()}}
	case len(body) > maxResponseBytes:
		inv.result <- outcome{err: &FunctionError{Type: "Function.ResponseSizeTooLarge", Message: "response payload size exceeded maximum allowed payload size (6291556 bytes)"}}
		writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "payload too large")
		return
	case r.Trailer.Get("Lambda-Runtime-Function-Error-Type") != "":
		// The runtime failed while streaming its response.
		inv.result <- outcome{err: &FunctionError{
			Type:    r.Trailer.Get("Lambda-Runtime-Function-Error-Type"),
			Message: r.Trailer.Get("Lambda-Runtime-Function-Error-Body"),
		}}
	default:
		inv.result <- outcome{payload: body}
	}
	writeAccepted(w)
}

func (a *runtimeAPI) invokeError(w http.ResponseWriter, r *http.Request) {
	inv := a.take(r.PathValue("id"))
	if inv == nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "unknown or completed request id")
		return
	}
	inv.result <- outcome{err: readFunctionError(r)}
	writeAccepted(w)
}

func (a *runtimeAPI) initError(w http.ResponseWriter, r *http.Request) {
	fe := readFunctionError(r)
	select {
	case a.initErr <- fe:
	default:
	}
	writeAccepted(w)
}

func (a *runtimeAPI) register(w http.ResponseWriter, r *http.Request, fn Function) {
	_, _ = io.Copy(io.Discard, r.Body)
	a.mu.Lock()
	a.extensions++
	id := fmt.Sprintf("ext-%d", a.extensions)
	a.mu.Unlock()
	w.Header().Set("Lambda-Extension-Identifier", id)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"functionName": fn.Name, "functionVersion": "$LATEST", "handler": fn.Handler,
	})
}

// extensionNext blocks until shutdown: the runtime supports no extension
// events beyond the SIGTERM that registering enables.
func (a *runtimeAPI) extensionNext(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-a.closed:
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"eventType":"SHUTDOWN","shutdownReason":"spindown"}`)
	}
}

// readFunctionError decodes an error posted by a runtime: the body is
// {"errorMessage","errorType",…}; the type may also come in the
// Lambda-Runtime-Function-Error-Type header or trailer.
func readFunctionError(r *http.Request) *FunctionError {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxResponseBytes))
	fe := &FunctionError{Payload: body, Type: r.Header.Get("Lambda-Runtime-Function-Error-Type")}
	if t := r.Trailer.Get("Lambda-Runtime-Function-Error-Type"); t != "" {
		fe.Type = t
	}
	var doc struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	if err := json.Unmarshal(body, &doc); err == nil {
		fe.Message = doc.Message
		if doc.Type != "" {
			fe.Type = doc.Type
		}
	} else {
		fe.Message = string(body)
	}
	if fe.Type == "" {
		fe.Type = "Unhandled"
	}
	return fe
}

func writeAccepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func writeAPIError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}
