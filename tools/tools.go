// Package tools pins the developer tools the Makefile builds into bin/.
//
// The versions live in this module's go.mod (tool directives), apart from the
// product's go.mod, so that importing offload's pkg/ never pulls in linters.
// `make tools` builds them from the Go module proxy.
package tools
