package imagebuild

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// transport is the HTTP transport of the build's own downloads (container
// images, URL images, executables): http_proxy for http URLs, https_proxy
// for https URLs, none for the hosts of no_proxy; without any of them, the
// module's environment's, as apt reads them.
func (b *builder) transport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	cfg := b.cfg
	if cfg.HTTPProxy == "" && cfg.HTTPSProxy == "" && cfg.NoProxy == "" {
		t.Proxy = http.ProxyFromEnvironment // as apt and mmdebstrap read the module's environment
		return t
	}
	t.Proxy = func(req *http.Request) (*url.URL, error) {
		proxy := cfg.HTTPProxy
		if req.URL.Scheme == "https" {
			proxy = cfg.HTTPSProxy
		}
		if proxy == "" || bypassesProxy(req.URL, cfg.NoProxy) {
			return nil, nil
		}
		return url.Parse(proxy)
	}
	return t
}

// bypassesProxy reads no_proxy as curl and apt do: a comma-separated list
// of host names (each also matching its subdomains; a leading dot is
// allowed), IP addresses, CIDR blocks, optionally with :port, or "*".
func bypassesProxy(u *url.URL, noProxy string) bool {
	host, port := u.Hostname(), u.Port()
	for _, entry := range strings.Split(noProxy, ",") {
		entry = strings.ToLower(strings.TrimSpace(entry))
		if entry == "" {
			continue
		}
		if entry == "*" {
			return true
		}
		if h, p, err := net.SplitHostPort(entry); err == nil {
			if p != port {
				continue
			}
			entry = h
		}
		if _, block, err := net.ParseCIDR(entry); err == nil {
			if ip := net.ParseIP(host); ip != nil && block.Contains(ip) {
				return true
			}
			continue
		}
		entry = strings.TrimPrefix(entry, ".")
		host := strings.ToLower(host)
		if host == entry || strings.HasSuffix(host, "."+entry) {
			return true
		}
	}
	return false
}
