package baremetal

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

// Defaults of a Client's options.
const (
	// DefaultMicroversion is the Bare Metal API version requested: 1.52
	// added allocations and a node's allocation_uuid.
	DefaultMicroversion = "1.52"
	// DefaultPollInterval is how often waits read a node or an allocation again.
	DefaultPollInterval = time.Second
)

// ErrInvalidOption is wrapped by the errors of options given bad values.
var ErrInvalidOption = errors.New("invalid baremetal client option")

// Client makes the Ironic calls of the modules.
type Client struct {
	sc *gophercloud.ServiceClient
	options
}

type options struct {
	microversion string
	pollInterval time.Duration
}

// Option configures a Client.
type Option func(*options) error

// WithMicroversion sets the X-OpenStack-Ironic-API-Version of every call
// ("1.x"). Default: DefaultMicroversion.
func WithMicroversion(version string) Option {
	return func(o *options) error {
		var major, minor int
		if _, err := fmt.Sscanf(version, "%d.%d", &major, &minor); err != nil || major != 1 {
			return fmt.Errorf("%w: microversion is %q; expected 1.N", ErrInvalidOption, version)
		}
		o.microversion = version
		return nil
	}
}

// WithPollInterval sets how often WaitForProvisionState and WaitForAllocation
// read the node or allocation again. Default: DefaultPollInterval.
func WithPollInterval(interval time.Duration) Option {
	return func(o *options) error {
		if interval <= 0 {
			return fmt.Errorf("%w: poll interval is %s; expected more than 0", ErrInvalidOption, interval)
		}
		o.pollInterval = interval
		return nil
	}
}

// New returns a Client for the baremetal service client sc (whose Endpoint is
// Ironic's base URL, for instance http://ironic:6385/). sc is copied: its
// microversion is the Client's own.
func New(sc *gophercloud.ServiceClient, opts ...Option) (*Client, error) {
	o := options{microversion: DefaultMicroversion, pollInterval: DefaultPollInterval}
	for _, apply := range opts {
		if err := apply(&o); err != nil {
			return nil, err
		}
	}
	own := *sc
	own.Microversion = o.microversion
	return &Client{sc: &own, options: o}, nil
}

// ServiceClient returns the gophercloud client the Client uses, with its
// microversion set, for calls this package does not wrap.
func (c *Client) ServiceClient() *gophercloud.ServiceClient { return c.sc }

// IsConflict tells whether err is Ironic's 409 Conflict: the node is locked
// by a conductor (NodeLocked) or in a state that refuses the request; trying
// again later may succeed.
func IsConflict(err error) bool { return gophercloud.ResponseCodeIs(err, http.StatusConflict) }

// IsNotFound tells whether err is a 404: no such node or allocation.
func IsNotFound(err error) bool { return gophercloud.ResponseCodeIs(err, http.StatusNotFound) }
