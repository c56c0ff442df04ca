package glance

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/members"
)

// Member statuses (Image API v2, "Image members"): a project an image is
// shared with sees it in its default list only once it accepted it.
const (
	MemberPending  = "pending"
	MemberAccepted = "accepted"
	MemberRejected = "rejected"
)

// MemberStatus returns the status of project's membership of an image
// (GET /v2/images/{id}/members/{project}), or "" when project is not a
// member. The image's owner and the member may ask.
func (c *Client) MemberStatus(ctx context.Context, imageID, project string) (string, error) {
	var member *members.Member
	err := c.retry(ctx, func() (err error) {
		member, err = members.Get(ctx, c.sc, imageID, project).Extract()
		return err
	})
	switch {
	case IsNotFound(err):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("reading the membership of project %s in image %s at %s: %w", project, imageID, c.where(), err)
	}
	return member.Status, nil
}

// AddMember shares an image with project (POST /v2/images/{id}/members); the
// membership starts pending. A project that is already a member (409, as
// after a retried request whose answer was lost) is not an error. Only the
// owner of an image of visibility shared may add members.
func (c *Client) AddMember(ctx context.Context, imageID, project string) error {
	err := c.retry(ctx, func() error {
		_, err := members.Create(ctx, c.sc, imageID, project).Extract()
		if gophercloud.ResponseCodeIs(err, 409) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sharing image %s with project %s at %s: %w", imageID, project, c.where(), err)
	}
	return nil
}

// AcceptMembership accepts an image shared with project (PUT
// /v2/images/{id}/members/{project}, status accepted); only a client
// scoped to that project may.
func (c *Client) AcceptMembership(ctx context.Context, imageID, project string) error {
	err := c.retry(ctx, func() error {
		_, err := members.Update(ctx, c.sc, imageID, project, members.UpdateOpts{Status: MemberAccepted}).Extract()
		return err
	})
	if err != nil {
		return fmt.Errorf("accepting image %s into project %s at %s: %w", imageID, project, c.where(), err)
	}
	return nil
}
