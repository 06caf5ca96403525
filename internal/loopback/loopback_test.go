package loopback

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFreeAddrCanBeListenedOn(t *testing.T) {
	t.Parallel()
	addr, err := FreeAddr()
	require.NoError(t, err)
	require.Regexp(t, `^127\.0\.0\.1:\d+$`, addr)
	srv := &httptest.Server{Listener: mustListen(t, addr), Config: &http.Server{Handler: http.NotFoundHandler()}}
	srv.Start()
	srv.Close()
}

func TestHealthyWantsTwoHundredOnHealthz(t *testing.T) {
	t.Parallel()
	var status atomic.Int32
	status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(int(status.Load()))
	}))
	require.True(t, Healthy(srv.URL))
	status.Store(http.StatusServiceUnavailable)
	require.False(t, Healthy(srv.URL))
	srv.Close()
	require.False(t, Healthy(srv.URL), "no answer")
}

func mustListen(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	return ln
}
