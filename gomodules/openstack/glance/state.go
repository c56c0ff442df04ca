package glance

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// pollInterval is the longest wait between two looks at another run's
// upload in progress.
const pollInterval = 2 * time.Second

// InProgress tells whether an image is an unfinished image of this
// collection that showed progress (updated_at) within StaleAfter: another
// run's upload still going, which no run may delete.
func (c *Client) InProgress(image *images.Image) bool {
	return c.unfinished(image) && c.now().Sub(image.UpdatedAt) < c.staleAfter
}

// Stale tells whether an image is a leftover of this collection that no
// run will finish: killed, or unfinished (queued, saving, importing,
// uploading, or holding data never verified) with no progress for
// StaleAfter. Any run may delete it.
func (c *Client) Stale(image *images.Image) bool {
	if !Ours(image) || Complete(image) {
		return false
	}
	return image.Status == images.ImageStatusKilled || !c.InProgress(image)
}

func (c *Client) unfinished(image *images.Image) bool {
	if !Ours(image) || Complete(image) {
		return false
	}
	switch image.Status {
	case images.ImageStatusQueued, images.ImageStatusSaving, images.ImageStatusImporting, "uploading",
		images.ImageStatusActive, images.ImageStatusDeactivated:
		return true
	}
	return false
}

// AwaitUploads returns the images named name (as FindByName) once no upload
// of this collection to that name is in progress: it waits while another
// run's upload goes on, until it is complete or stale, so that a run uses
// the other's image instead of sending the same data again.
func (c *Client) AwaitUploads(ctx context.Context, name string, opts ...LookupOption) ([]images.Image, error) {
	for {
		found, err := c.FindByName(ctx, name, opts...)
		if err != nil {
			return nil, err
		}
		if !c.anyInProgress(found, "") {
			return found, nil
		}
		if err := sleep(ctx, c.pollInterval()); err != nil {
			return nil, fmt.Errorf("waiting for another run's upload of %q: %w", name, err)
		}
	}
}

func (c *Client) anyInProgress(found []images.Image, except string) bool {
	for i := range found {
		if found[i].ID != except && c.InProgress(&found[i]) {
			return true
		}
	}
	return false
}

func (c *Client) pollInterval() time.Duration { return min(pollInterval, c.staleAfter/4) }

// Converge settles concurrent uploads of one name, after mine (complete)
// was uploaded: of the images of this collection with that name that are
// complete or in progress, the oldest (see Older) wins. When mine is the
// oldest it is returned. Otherwise Converge waits for the winner to be
// complete (or stale, then the next oldest wins), and when it holds the same
// bytes as mine (os_hash_value), or was made from the same source in the
// same way (SameSource), deletes mine and returns the winner; otherwise mine
// is kept and the error says so.
func (c *Client) Converge(ctx context.Context, mine *images.Image, opts ...LookupOption) (*images.Image, error) {
	for {
		found, err := c.FindByName(ctx, mine.Name, opts...)
		if err != nil {
			return nil, err
		}
		winner := c.oldestCandidate(found, mine)
		switch {
		case winner == nil || winner.ID == mine.ID:
			return mine, nil
		case Complete(winner):
			return c.yieldTo(ctx, mine, winner)
		}
		if err := sleep(ctx, c.pollInterval()); err != nil {
			return nil, fmt.Errorf("waiting for another run's upload of %q (%s): %w", mine.Name, winner.ID, err)
		}
	}
}

// oldestCandidate returns the oldest image of this collection that is
// complete or in progress, counting mine as one.
func (c *Client) oldestCandidate(found []images.Image, mine *images.Image) *images.Image {
	var candidates []images.Image
	for i := range found {
		image := &found[i]
		if image.ID == mine.ID || (Ours(image) && (Complete(image) || c.InProgress(image))) {
			candidates = append(candidates, *image)
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	sort.SliceStable(candidates, func(i, j int) bool { return Older(&candidates[i], &candidates[j]) })
	return &candidates[0]
}

func (c *Client) yieldTo(ctx context.Context, mine, winner *images.Image) (*images.Image, error) {
	_, mineHash := Hash(mine)
	_, winnerHash := Hash(winner)
	if (mineHash == "" || mineHash != winnerHash) && !SameSource(mine, winner) {
		return mine, fmt.Errorf("image %q was uploaded twice at once with different data: %s (os_hash_value %s) and the older %s (os_hash_value %s); "+
			"keep one: delete the other, then run again", mine.Name, mine.ID, mineHash, winner.ID, winnerHash)
	}
	if err := c.Delete(ctx, mine.ID); err != nil {
		return nil, fmt.Errorf("deleting image %q (%s), uploaded at the same time as the older %s: %w", mine.Name, mine.ID, winner.ID, err)
	}
	return winner, nil
}
