package mirror

import (
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imageops/cloud/gomodules/registryaccess"
)

// remoteOptions turns o into go-containerregistry's options over base (the
// run's httpTransport), shared by the Puller and the Pusher so that tokens
// and connections are reused.
func (o *options) remoteOptions(base http.RoundTripper) []remote.Option {
	return o.registry.RemoteOptions(base)
}

// nameOptions are the name options for references on registry host: plain
// HTTP is allowed for insecure registries.
func (o *options) nameOptions(host string) []name.Option {
	return o.registry.NameOptions(host)
}

// httpTransport is registryaccess's transport (trusted roots, insecure
// registries), failing at once the requests to a host that could not be
// connected to before, answering the version check once per registry, and
// counting in stats the requests that reach the network.
func (o *options) httpTransport(stats *requestStats) http.RoundTripper {
	counted := counting{next: o.registry.Transport(), stats: stats}
	return newPingCache(registryaccess.FailFast(counted))
}
