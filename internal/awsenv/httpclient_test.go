package awsenv_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/require"

	"github.com/offload/offload/internal/awsenv"
)

// The race HTTPClient closes, forced step by step instead of waited for:
// the transport's goroutine writes the body and is held before its last
// check; the answer's headers arrive; the SDK closes the request body, as
// smithy-go's client does when Do returns; the held goroutine goes on; only
// then does the server send the answer's body. The SDK's default client
// fails its write and closes the connection under the answer (the "lost
// answers" the local stack showed under load); HTTPClient's delivers it.
func TestHTTPClientKeepsTheAnswerWhenTheSDKClosesTheBodyBeforeTheTransportsLastCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		wrap    func(aws.HTTPClient) aws.HTTPClient
		wantCut bool
	}{
		// If this case starts passing, smithy-go or net/http fixed the race
		// and HTTPClient can go.
		{"the SDK's default client loses the answer", func(c aws.HTTPClient) aws.HTTPClient { return c }, true},
		{"HTTPClient keeps it", awsenv.HTTPClient, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(`{"QueueUrl":"https://sqs/123456789012/q","MessageBody":"hello"}`)
			srv := newHeldServer(t)
			held := &holdingDialer{body: body, release: make(chan struct{}), closed: make(chan struct{})}
			client := tc.wrap(awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.DialContext = held.DialContext }))

			wrote := make(chan error, 1)
			ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
				WroteRequest: func(i httptrace.WroteRequestInfo) { wrote <- i.Err },
			})
			req := smithyRequest(t, ctx, srv.url, body)

			resp, err := client.Do(req)
			require.NoError(t, err, "the answer's headers")
			defer resp.Body.Close()
			require.NoError(t, req.Body.Close(), "the SDK closes the request body when Do returns")
			close(held.release)
			werr := <-wrote
			if tc.wantCut {
				require.ErrorIs(t, werr, io.EOF, "the transport's last check read the closed body's WriteTo")
				<-held.closed // the transport closes the connection after a failed write
			} else {
				require.NoError(t, werr)
			}
			close(srv.sendBody)
			got, err := io.ReadAll(resp.Body)
			if tc.wantCut {
				require.ErrorIs(t, err, net.ErrClosed, "the answer's body is cut")
				return
			}
			require.NoError(t, err)
			require.Equal(t, `{"MessageId":"m-1"}`, string(got))
			require.Equal(t, body, <-srv.got, "the server read the whole request")
		})
	}
}

// smithyRequest builds req as smithy-go does for every SDK call, with the
// body in its closable wrapper.
func smithyRequest(t *testing.T, ctx context.Context, target string, body []byte) *http.Request {
	t.Helper()
	sreq := smithyhttp.NewStackRequest().(*smithyhttp.Request)
	u, err := url.Parse(target)
	require.NoError(t, err)
	sreq.Method, sreq.URL = http.MethodPost, u
	sreq.Header.Set("Content-Type", "application/x-amz-json-1.0")
	sreq, err = sreq.SetStream(bytes.NewReader(body))
	require.NoError(t, err)
	sreq.ContentLength = int64(len(body))
	req := sreq.Build(ctx)
	_, isWriterTo := req.Body.(io.WriterTo)
	require.True(t, isWriterTo, "smithy-go's body wrapper exposes WriteTo: the race needs it")
	return req
}

// heldServer answers one request: its headers at once, its body when
// sendBody is closed.
type heldServer struct {
	url      string
	sendBody chan struct{}
	got      chan []byte
}

func newHeldServer(t *testing.T) *heldServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	s := &heldServer{url: "http://" + ln.Addr().String() + "/", sendBody: make(chan struct{}), got: make(chan []byte, 1)}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		b, _ := io.ReadAll(r.Body)
		s.got <- b
		answer := `{"MessageId":"m-1"}`
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 19\r\nConnection: close\r\n\r\n")
		<-s.sendBody
		_, _ = io.WriteString(c, answer)
	}()
	return s
}

// holdingDialer's connections hold the goroutine that writes the request
// body, after the bytes have gone out, until release is closed; closed is
// closed when the transport closes the connection.
type holdingDialer struct {
	body    []byte
	release chan struct{}
	closed  chan struct{}
	once    sync.Once
}

func (d *holdingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &holdingConn{Conn: c, d: d}, nil
}

type holdingConn struct {
	net.Conn
	d *holdingDialer
}

func (c *holdingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if bytes.Contains(p, c.d.body) {
		<-c.d.release
	}
	return n, err
}

func (c *holdingConn) Close() error {
	c.d.once.Do(func() { close(c.d.closed) })
	return c.Conn.Close()
}
