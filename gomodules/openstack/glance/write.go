package glance

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// Update applies patches (Image API v2 PATCH, JSON patch) to an image,
// retrying as the Client does: the patches set values, so repeating them
// after a lost answer changes nothing more.
func (c *Client) Update(ctx context.Context, id string, patches images.UpdateOpts) (*images.Image, error) {
	var image *images.Image
	err := c.retry(ctx, func() (err error) {
		image, err = images.Update(ctx, c.sc, id, patches).Extract()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("updating image %s in Glance at %s: %w", id, c.where(), err)
	}
	return image, nil
}

// Delete deletes an image, retrying as the Client does. An image already
// gone is not an error: a 404 (as after a retried delete whose answer was
// lost), or a 400/409 that Glance answers to a delete racing another run's
// delete of the same image, once the image is seen gone.
func (c *Client) Delete(ctx context.Context, id string) error {
	err := c.retry(ctx, func() error {
		err := images.Delete(ctx, c.sc, id).ExtractErr()
		if IsNotFound(err) || (err != nil && raced(err) && c.gone(ctx, id)) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting image %s from Glance at %s: %w", id, c.where(), err)
	}
	return nil
}

// raced tells whether a delete's error may come from another run deleting
// the image at the same time (Glance answers 400 or 409 to the second).
func raced(err error) bool {
	return gophercloud.ResponseCodeIs(err, http.StatusBadRequest) || gophercloud.ResponseCodeIs(err, http.StatusConflict)
}

// gone tells whether an image no longer exists, or is being deleted.
func (c *Client) gone(ctx context.Context, id string) bool {
	image, err := images.Get(ctx, c.sc, id).Extract()
	return IsNotFound(err) || (err == nil && (image.Status == images.ImageStatusDeleted || image.Status == images.ImageStatusPendingDelete))
}

// deleteDetached deletes an image even after ctx was cancelled: the
// clean-up of a failed upload.
func (c *Client) deleteDetached(id string) error {
	ctx, cancel := detached()
	defer cancel()
	return c.Delete(ctx, id)
}
