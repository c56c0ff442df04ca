package glance

import (
	"errors"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

// Defaults of a Client's options.
const (
	// DefaultRetries is how many times a failed call is tried again.
	DefaultRetries = 5
	// DefaultRetryDelay is the wait before the first retry; each next one
	// waits twice as long, up to MaxRetryDelay.
	DefaultRetryDelay = 2 * time.Second
	// MaxRetryDelay caps the wait between two tries.
	MaxRetryDelay = 60 * time.Second
	// DefaultStaleAfter is how long an unfinished image of this collection
	// may show no progress (updated_at unchanged) before any run may delete
	// it as a leftover.
	DefaultStaleAfter = 10 * time.Minute
	// MinStaleAfter is the shortest StaleAfter: the heartbeat of a live
	// upload (every StaleAfter/4) must get through a slow Glance in time.
	MinStaleAfter = 4 * time.Second
)

// cleanupTimeout bounds a delete that runs after the caller's context ended.
const cleanupTimeout = 60 * time.Second

// ErrInvalidOption is wrapped by the errors of options given bad values.
var ErrInvalidOption = errors.New("invalid Glance client option")

// Client makes the Glance calls of every module: with retries, and with the
// rules on unfinished images described in the package doc.
type Client struct {
	sc *gophercloud.ServiceClient
	options
}

type options struct {
	project    string
	owner      string
	retries    int
	retryDelay time.Duration
	staleAfter time.Duration
	now        func() time.Time
}

// Option configures a Client.
type Option func(*options) error

// WithRetries sets how many times a call that failed with a 5xx or 429
// answer, or without an answer, is tried again; 0 never retries.
// Default: DefaultRetries.
func WithRetries(retries int) Option {
	return func(o *options) error {
		if retries < 0 {
			return fmt.Errorf("%w: retries is %d; expected 0 or more", ErrInvalidOption, retries)
		}
		o.retries = retries
		return nil
	}
}

// WithRetryDelay sets the wait before the first retry; it doubles at each
// next one, capped at MaxRetryDelay. Default: DefaultRetryDelay.
func WithRetryDelay(delay time.Duration) Option {
	return func(o *options) error {
		if delay < 0 {
			return fmt.Errorf("%w: retry delay is %s; expected 0 or more", ErrInvalidOption, delay)
		}
		o.retryDelay = delay
		return nil
	}
}

// WithStaleAfter sets how long an unfinished image of this collection may
// show no progress before it counts as a stale leftover (see the package
// doc); at least MinStaleAfter. Default: DefaultStaleAfter.
func WithStaleAfter(after time.Duration) Option {
	return func(o *options) error {
		if after < MinStaleAfter {
			return fmt.Errorf("%w: stale-after is %s; expected %s or more", ErrInvalidOption, after, MinStaleAfter)
		}
		o.staleAfter = after
		return nil
	}
}

// WithProject tells the client which project its credentials are scoped to
// (the token's project ID, conn.Clients.ProjectID; conn.Clients.Glance sets
// it). Images are then looked up among that project's own images only
// (FindByName), never among the other projects' images an admin sees.
// Default: "" (a Glance without Keystone: images have no owner).
func WithProject(projectID string) Option {
	return func(o *options) error {
		o.project = projectID
		return nil
	}
}

// WithOwner names the project (ID) whose images the client looks up and
// creates, when it is not the credentials' own: the module's owner option.
// Glance lets only admins create images for another project. Default: the
// credentials' project (WithProject).
func WithOwner(projectID string) Option {
	return func(o *options) error {
		o.owner = projectID
		return nil
	}
}

// New returns a Client for the Glance that sc (an image v2 client, from
// conn.Clients.Image) reaches.
func New(sc *gophercloud.ServiceClient, opts ...Option) (*Client, error) {
	c := &Client{sc: sc, options: options{retries: DefaultRetries, retryDelay: DefaultRetryDelay,
		staleAfter: DefaultStaleAfter, now: time.Now}}
	for _, apply := range opts {
		if err := apply(&c.options); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// ServiceClient returns the gophercloud image client under c.
func (c *Client) ServiceClient() *gophercloud.ServiceClient { return c.sc }

// Owner returns the project ID whose images the client manages: WithOwner's,
// else WithProject's; "" for a Glance without Keystone.
func (c *Client) Owner() string {
	if c.owner != "" {
		return c.owner
	}
	return c.project
}

// StaleAfter returns how long an unfinished image may show no progress
// before it is a stale leftover.
func (c *Client) StaleAfter() time.Duration { return c.staleAfter }

// where names the Glance for messages.
func (c *Client) where() string { return c.sc.ResourceBase }
