package communityimage

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/ingest"
	"github.com/imageops/cloud/gomodules/openstack/conn"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// ShareProject is one entry of share_projects (azimuth-ops'
// community_images_share_projects): a project an image of visibility shared
// is shared with, and the clouds.yaml entry whose credentials accept it
// there, as only a project itself may accept an image shared with it.
type ShareProject struct {
	// ID is the project's ID.
	ID string `json:"id"`
	// Key is the clouds.yaml entry of a user of that project.
	Key string `json:"key"`
}

// shareOptions are the options RunBatchModule reads beside ingest's.
type shareOptions struct {
	ShareProjects []ShareProject `json:"share_projects"`
}

func (o shareOptions) check() error {
	for i, p := range o.ShareProjects {
		if p.ID == "" || p.Key == "" {
			return fmt.Errorf("share_projects[%d] is %+v; expected {id: <project ID>, key: <clouds.yaml entry of that project>}", i, p)
		}
	}
	return nil
}

// sharedResult is a batch's result with the projects each image was shared with.
type sharedResult struct {
	ingest.BatchResult
	// Shared maps each key whose image is of visibility shared to the
	// projects that are members of it and accepted it.
	Shared map[string][]string `json:"shared,omitempty"`
}

// sharer shares images with projects and accepts them there, connecting
// once per project's clouds.yaml entry.
type sharer struct {
	m         *ansible.Module
	owner     *glance.Client
	base      conn.Config
	accepters map[string]*glance.Client
	checkMode bool
}

// shareAll shares every image of visibility shared with each project, and
// accepts it in each, as azimuth-ops does (`openstack image add project`,
// then `openstack image set --accept` with the project's OS_CLOUD). Only what
// is missing is done: a project already a member is not added again, an
// accepted membership is not accepted again.
func (s *sharer) shareAll(ctx context.Context, projects []ShareProject, result ingest.BatchResult) (sharedResult, error) {
	out := sharedResult{BatchResult: result}
	if len(projects) == 0 {
		return out, nil
	}
	out.Shared = map[string][]string{}
	for _, key := range slices.Sorted(maps.Keys(result.Images)) {
		image := result.Images[key]
		if image.ID == "" || image.Image["visibility"] != "shared" {
			continue
		}
		for _, p := range projects {
			changed, err := s.share(ctx, image.ID, p)
			if err != nil {
				return out, fmt.Errorf("%s: %w", key, err)
			}
			out.Changed = out.Changed || changed
			out.Shared[key] = append(out.Shared[key], p.ID)
		}
	}
	return out, nil
}

func (s *sharer) share(ctx context.Context, imageID string, p ShareProject) (changed bool, err error) {
	status, err := s.owner.MemberStatus(ctx, imageID, p.ID)
	if err != nil {
		return false, err
	}
	if status == "" {
		changed, status = true, glance.MemberPending
		if !s.checkMode {
			if err := s.owner.AddMember(ctx, imageID, p.ID); err != nil {
				return false, err
			}
		}
	}
	if status == glance.MemberAccepted {
		return changed, nil
	}
	if s.checkMode {
		return true, nil
	}
	accepter, err := s.accepter(ctx, p.Key)
	if err != nil {
		return false, err
	}
	return true, accepter.AcceptMembership(ctx, imageID, p.ID)
}

// accepter returns a Glance client with the credentials of a clouds.yaml
// entry, the same TLS and endpoint settings as the batch's otherwise.
func (s *sharer) accepter(ctx context.Context, key string) (*glance.Client, error) {
	if client, ok := s.accepters[key]; ok {
		return client, nil
	}
	cfg := conn.Config{Cloud: key, RegionName: s.base.RegionName, Interface: s.base.Interface,
		ValidateCerts: s.base.ValidateCerts, CACert: s.base.CACert}
	clients, err := conn.Connect(ctx, cfg, conn.WithSecretHandler(s.m.AddSecret))
	if err != nil {
		return nil, fmt.Errorf("connecting as clouds.yaml entry %q to accept shared images: %w", key, err)
	}
	client, err := clients.Glance(cfg.GlanceOptions()...)
	if err != nil {
		return nil, err
	}
	s.accepters[key] = client
	return client, nil
}
