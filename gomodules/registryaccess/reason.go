package registryaccess

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Reason classifies a failure for reports and errors, so that users can tell
// a password problem from a typo in a reference or an unreachable registry.
type Reason string

// The reasons ReasonOf gives.
const (
	ReasonAuth        Reason = "auth"         // 401/403, UNAUTHORIZED, DENIED
	ReasonNotFound    Reason = "not found"    // 404, MANIFEST_UNKNOWN, NAME_UNKNOWN
	ReasonRateLimited Reason = "rate limited" // 429 after every retry
	ReasonServer      Reason = "server error" // 5xx after every retry
	ReasonNetwork     Reason = "network"      // connection refused, DNS, timeouts
	ReasonTLS         Reason = "tls"          // untrusted or invalid certificate
	ReasonCancelled   Reason = "cancelled"    // the run's context ended
	ReasonOther       Reason = "error"        // anything else
)

// ReasonOf classifies err, a registry request's failure; see the Reason
// constants. It is "" for nil.
func ReasonOf(err error) Reason {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return ReasonCancelled
	}
	// A TLS failure comes first: go-containerregistry then retries loopback
	// registries over plain HTTP, whose error would hide it.
	if IsTLSFailure(err) {
		return ReasonTLS
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		for _, d := range terr.Errors {
			switch d.Code {
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return ReasonAuth
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
				return ReasonNotFound
			case transport.TooManyRequestsErrorCode:
				return ReasonRateLimited
			}
		}
		switch {
		case terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden:
			return ReasonAuth
		case terr.StatusCode == http.StatusNotFound:
			return ReasonNotFound
		case terr.StatusCode == http.StatusTooManyRequests:
			return ReasonRateLimited
		case terr.StatusCode >= 500:
			return ReasonServer
		}
		return ReasonOther
	}
	// Dial, TLS handshake and response timeouts match
	// context.DeadlineExceeded too, but they are the network's failures: only
	// the context's own error means cancelled. (ReasonIn also reports a
	// failure as cancelled when the request's context has ended.)
	if holds(err, context.DeadlineExceeded) {
		return ReasonCancelled
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return ReasonNetwork
	}
	return ReasonOther
}

// IsTLSFailure tells whether err is a certificate the client does not
// trust, or a TLS record that is not TLS.
func IsTLSFailure(err error) bool {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var record tls.RecordHeaderError
	return errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verify) || errors.As(err, &record)
}

// holds tells whether target itself (not an error that merely matches it
// with an Is method) is in err's tree.
func holds(err, target error) bool {
	if err == target {
		return true
	}
	switch e := err.(type) {
	case interface{ Unwrap() error }:
		return holds(e.Unwrap(), target)
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			if holds(inner, target) {
				return true
			}
		}
	}
	return false
}

// ReasonIn is ReasonOf(err) for a request made with ctx: cancelled when ctx
// has ended, whatever error the request gave.
func ReasonIn(ctx context.Context, err error) Reason {
	if err != nil && ctx.Err() != nil {
		return ReasonCancelled
	}
	return ReasonOf(err)
}
