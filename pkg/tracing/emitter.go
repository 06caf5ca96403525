package tracing

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/aws/aws-xray-sdk-go/v2/daemoncfg"
)

// Emitter sends one finished segment document (JSON, without the daemon's
// header line). Implementations are safe for concurrent use and must not
// keep doc after Emit returns.
type Emitter interface {
	Emit(doc []byte) error
}

// DaemonHeader is the line the X-Ray daemon expects before each document in
// a UDP datagram.
const DaemonHeader = "{\"format\": \"json\", \"version\": 1}\n"

// UDPEmitter sends documents to the X-Ray daemon, one UDP datagram each
// (DaemonHeader, then the document).
type UDPEmitter struct {
	conn *net.UDPConn
	pool sync.Pool
}

// NewUDPEmitter returns an emitter sending to d's UDP address.
func NewUDPEmitter(d *daemoncfg.DaemonEndpoints) (*UDPEmitter, error) {
	if d == nil || d.UDPAddr == nil {
		return nil, errors.New("X-Ray daemon UDP address is required")
	}
	conn, err := net.DialUDP("udp", nil, d.UDPAddr)
	if err != nil {
		return nil, fmt.Errorf("connect to the X-Ray daemon at %s: %w", d.UDPAddr, err)
	}
	e := &UDPEmitter{conn: conn}
	e.pool.New = func() any { b := make([]byte, 0, 2048); return &b }
	return e, nil
}

// Emit implements Emitter.
func (e *UDPEmitter) Emit(doc []byte) error {
	bp := e.pool.Get().(*[]byte)
	b := append(append((*bp)[:0], DaemonHeader...), doc...)
	_, err := e.conn.Write(b)
	*bp = b
	if cap(b) <= 64<<10 {
		e.pool.Put(bp)
	}
	if err != nil {
		return fmt.Errorf("send segment to the X-Ray daemon at %s: %w", e.conn.RemoteAddr(), err)
	}
	return nil
}

// Close closes the socket.
func (e *UDPEmitter) Close() error { return e.conn.Close() }
