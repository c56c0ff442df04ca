package mirror

import (
	"context"
	"errors"
	"net/http"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/imageops/cloud/gomodules/registryaccess"
)

// ErrDigestMismatch is returned when, after a copy, the target's digest is
// not the source's (or the pinned digest of the reference).
var ErrDigestMismatch = errors.New("the target's digest differs from the source's")

// ErrNoPlatform is returned when WithPlatforms leaves nothing of an index.
var ErrNoPlatform = errors.New("the image has none of the requested platforms")

// ErrPinnedIndex is returned when WithPlatforms would drop platforms of an
// index that the source reference pins by digest: the filtered index has
// another digest, so the pinned reference could not point at the copy.
var ErrPinnedIndex = errors.New("a pinned index cannot be filtered by platform")

// Reason classifies a failure for the report: registryaccess's reasons,
// and ReasonDigest and ReasonPlatform of the copy itself.
type Reason = registryaccess.Reason

// The reasons ReasonOf gives.
const (
	ReasonAuth        = registryaccess.ReasonAuth
	ReasonNotFound    = registryaccess.ReasonNotFound
	ReasonRateLimited = registryaccess.ReasonRateLimited
	ReasonServer      = registryaccess.ReasonServer
	ReasonNetwork     = registryaccess.ReasonNetwork
	ReasonTLS         = registryaccess.ReasonTLS
	ReasonCancelled   = registryaccess.ReasonCancelled
	ReasonOther       = registryaccess.ReasonOther

	ReasonDigest   Reason = "digest mismatch" // ErrDigestMismatch
	ReasonPlatform Reason = "platform"        // ErrNoPlatform, ErrPinnedIndex
)

// ReasonOf classifies err; see the Reason constants.
func ReasonOf(err error) Reason {
	switch {
	case errors.Is(err, ErrDigestMismatch):
		return ReasonDigest
	case errors.Is(err, ErrNoPlatform), errors.Is(err, ErrPinnedIndex):
		return ReasonPlatform
	}
	return registryaccess.ReasonOf(err)
}

// reasonIn is ReasonOf(err) for a request made with ctx: cancelled when ctx
// has ended, whatever error the request gave.
func reasonIn(ctx context.Context, err error) Reason {
	if err != nil && ctx.Err() != nil {
		return ReasonCancelled
	}
	return ReasonOf(err)
}

// isNotFound tells whether err means the manifest is absent.
func isNotFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}
