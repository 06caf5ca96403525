// Package loopback is what the tools and tests that start the example service
// (or another HTTP child process) on this machine share: a free loopback
// address to give it, and the health check that says it is serving.
package loopback

import (
	"net"
	"net/http"
)

// FreeAddr returns a 127.0.0.1 TCP address that was free a moment ago, for a
// child process to listen on (the port is released before it returns).
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Healthy reports whether the service at baseURL (http://host:port) answers
// GET /healthz with 200; no answer is false, not an error.
func Healthy(baseURL string) bool {
	resp, err := http.Get(baseURL + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
