// Package loadgen drives a Headlight server (or any server with an
// OpenAI-style POST /v1/completions) with a synthetic, seeded workload
// over loopback, and summarises latency, time to first token, throughput
// and errors. It refuses to send load anywhere but the local machine.
package loadgen

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// BaseURL checks that addr (host:port, or an http:// URL with no path
// beyond "/") names a loopback address — an IP in 127.0.0.0/8, ::1 or the
// name localhost — and returns it as "http://host:port". Names other than
// localhost are refused without resolving them.
func BaseURL(addr string) (string, error) {
	hostport := addr
	if strings.Contains(addr, "://") {
		u, err := url.Parse(addr)
		if err != nil {
			return "", fmt.Errorf("loadgen: address %q: %w", addr, err)
		}
		if u.Scheme != "http" {
			return "", fmt.Errorf("loadgen: address %q: only http:// is supported", addr)
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return "", fmt.Errorf("loadgen: address %q: want http://host:port with no path, query or user", addr)
		}
		hostport = u.Host
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", fmt.Errorf("loadgen: address %q: want host:port: %w", addr, err)
	}
	if port == "" {
		return "", fmt.Errorf("loadgen: address %q: no port", addr)
	}
	if !IsLoopback(host) {
		return "", fmt.Errorf("loadgen: address %q is not loopback (127.0.0.0/8, ::1 or localhost): refusing to send load elsewhere", addr)
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// IsLoopback reports whether host (no port, no brackets) is localhost or
// a loopback IP. Zoned addresses (fe80::1%lo) are not loopback.
func IsLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" {
		return false
	}
	return ip.Unmap().IsLoopback()
}
