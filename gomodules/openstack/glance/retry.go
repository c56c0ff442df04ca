package glance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

// Retryable tells whether a failed call may succeed when tried again: Glance
// answered 5xx or 429 (Too Many Requests), or did not answer (connection
// refused or reset, the connection closed early, a network timeout), or
// refused a renewed token's upload whose data was partly read
// (ErrDataAlreadySent). A cancelled context is never retryable.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, ErrDataAlreadySent) {
		return true
	}
	var status gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &status) {
		return status.Actual >= 500 || status.Actual == http.StatusTooManyRequests
	}
	var statusPtr *gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &statusPtr) {
		return statusPtr.Actual >= 500 || statusPtr.Actual == http.StatusTooManyRequests
	}
	var netErr net.Error
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || (errors.As(err, &netErr) && netErr.Timeout())
}

// retry calls try until it succeeds, fails with an error that is not
// Retryable, or has been tried 1+retries times; between tries it waits with
// exponential back-off. The error of the last try is returned, wrapped with
// how many tries were made when more than one.
func (c *Client) retry(ctx context.Context, try func() error) error {
	delay := c.retryDelay
	for attempt := 0; ; attempt++ {
		err := try()
		if err == nil || !Retryable(err) {
			return err
		}
		if attempt >= c.retries {
			if attempt == 0 {
				return err
			}
			return fmt.Errorf("%w (tried %d times)", err, attempt+1)
		}
		if err := sleep(ctx, max(delay, retryAfter(err))); err != nil {
			return err
		}
		delay = min(2*delay, MaxRetryDelay)
	}
}

// retryAfter is the wait a 429 or 503 answer asks for in its Retry-After
// header (in seconds; RFC 9110, 10.2.3), at most MaxRetryDelay; 0 when
// there is none.
func retryAfter(err error) time.Duration {
	var status gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &status) || status.ResponseHeader == nil {
		return 0
	}
	seconds, convErr := strconv.Atoi(status.ResponseHeader.Get("Retry-After"))
	if convErr != nil || seconds < 0 {
		return 0
	}
	return min(time.Duration(seconds)*time.Second, MaxRetryDelay)
}

func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// detached returns a context for clean-up that must happen even after the
// caller's context was cancelled, bounded by cleanupTimeout.
func detached() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), cleanupTimeout)
}
