package latencybench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"time"

	"github.com/offload/offload/internal/loopback"
)

// The floor is what the same generator, client and request mix measure
// against a Go net/http server that only reads each request and answers,
// started as its own process on the same machine in the same run: the part
// of every endpoint's latency that is loopback, two processes waking up and
// net/http, not the example service. On a small virtual machine most of a
// buffered POST /audit is this floor (docs/performance.md), so the report
// prints it next to the endpoints, as `make measure-init` prints a
// hello-world bootstrap next to the functions.

// FloorFlag is cmd/offload-bench-latency's flag that makes it serve the
// floor on an address (ServeFloor) instead of measuring; Config.FloorBin is
// started with it.
const FloorFlag = "serve-floor"

// Floor is the floor endpoint. It is measured first, with the audit
// endpoints' request mix.
var Floor = Endpoint{Name: "floor", Path: "/floor", Label: "POST /floor (net/http that only answers)", floor: true}

// ServeFloor serves the floor on addr until ctx is done: a POST's body is
// read to its end and answered 202 with a short JSON document; GET /healthz
// answers 200.
func ServeFloor(ctx context.Context, addr string) error {
	srv := &http.Server{Addr: addr, ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, body := http.StatusAccepted, `{"status":"queued"}`
		if r.Method == http.MethodGet {
			status, body = http.StatusOK, `{"status":"ok"}`
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// startFloor starts c.FloorBin serving the floor and waits until it answers.
func (st *stack) startFloor(ctx context.Context, c Config) error {
	addr, log, err := st.childAddrAndLog(c.LogDir, "bench-latency-floor.log")
	if err != nil {
		return err
	}
	st.floorURL = "http://" + addr
	st.floor = exec.Command(c.FloorBin, "--"+FloorFlag, addr)
	st.floor.Stdout, st.floor.Stderr = log, log
	if err := st.floor.Start(); err != nil {
		return fmt.Errorf("start the floor server %s: %w", c.FloorBin, err)
	}
	if err := waitFor(ctx, func() bool { return loopback.Healthy(st.floorURL) }); err != nil {
		return fmt.Errorf("the floor server did not answer on %s (log %s): %w", addr, log.Name(), err)
	}
	return nil
}

// floorLine compares the buffered POST /audit with the floor measured in the
// same run ("" when either was not measured).
func (r Result) floorLine() string {
	f, a := r.Get(Floor.Name), r.Get("audit_async")
	if f.N == 0 || a.N == 0 || f.P50 <= 0 || f.P99 <= 0 {
		return ""
	}
	return fmt.Sprintf("floor: net/http that only answers, same generator and mix: p50 %s ms, p99 %s ms; POST /audit (buffered) is %.2fx it at p50 and %.2fx at p99, %s ms more at p99",
		msString(f.P50), msString(f.P99), float64(a.P50)/float64(f.P50), float64(a.P99)/float64(f.P99), msString(a.P99-f.P99))
}
