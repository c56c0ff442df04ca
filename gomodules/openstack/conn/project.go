package conn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/imageops/cloud/gomodules/openstack/glance"
)

// GlanceOf returns the Glance layer's client (as Glance) for the images of
// owner, a project name or ID (ResolveProject); "" means the credentials'
// project. Errors say the owner option is at fault.
func (c *Clients) GlanceOf(ctx context.Context, owner string, opts ...glance.Option) (*glance.Client, error) {
	ownerID, err := c.ResolveProject(ctx, owner)
	if err != nil {
		return nil, fmt.Errorf("owner: %w", err)
	}
	if ownerID != "" {
		opts = append(opts, glance.WithOwner(ownerID))
	}
	return c.Glance(opts...)
}

// ErrProjectNotFound is wrapped by ResolveProject when no project has the
// given name or ID.
var ErrProjectNotFound = errors.New("project not found")

// ResolveProject returns the ID of the project named, or with the ID,
// nameOrID, as openstack.cloud.image reads its owner option: the
// credentials' own project by ID or name without asking Keystone, else
// Keystone's project of that ID, else its only project of that name.
// Looking at other projects needs an admin (or reader) role; Keystone's
// refusal says so. Without Keystone (auth_type none) nameOrID is returned
// as it is: Glance alone has no project names.
func (c *Clients) ResolveProject(ctx context.Context, nameOrID string) (string, error) {
	if nameOrID == "" {
		return "", nil
	}
	own := c.Project()
	if own == nil {
		return nameOrID, nil
	}
	if nameOrID == own.ID || nameOrID == own.Name {
		return own.ID, nil
	}
	identity := &gophercloud.ServiceClient{ProviderClient: c.provider,
		Endpoint: strings.TrimSuffix(c.provider.IdentityEndpoint, "/") + "/", Type: "identity"}
	if project, err := projects.Get(ctx, identity, nameOrID).Extract(); err == nil {
		return project.ID, nil
	} else if !gophercloud.ResponseCodeIs(err, 404) {
		return "", fmt.Errorf("finding project %q in Keystone (%s): %w", nameOrID, c.Name, explainProjectError(err))
	}
	pages, err := projects.List(identity, projects.ListOpts{Name: nameOrID}).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("finding project %q in Keystone (%s): %w", nameOrID, c.Name, explainProjectError(err))
	}
	found, err := projects.ExtractProjects(pages)
	if err != nil {
		return "", fmt.Errorf("finding project %q in Keystone (%s): %w", nameOrID, c.Name, err)
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("finding project %q in Keystone (%s): %w: no project has that ID or name", nameOrID, c.Name, ErrProjectNotFound)
	case 1:
		return found[0].ID, nil
	}
	ids := make([]string, len(found))
	for i, project := range found {
		ids[i] = fmt.Sprintf("%s (domain %s)", project.ID, project.DomainID)
	}
	return "", fmt.Errorf("finding project %q in Keystone (%s): %d projects have that name, in different domains: %s; give the project ID",
		nameOrID, c.Name, len(found), strings.Join(ids, ", "))
}

func explainProjectError(err error) error {
	if gophercloud.ResponseCodeIs(err, 403) {
		return fmt.Errorf("Keystone lets only admins (or readers) look at other projects; naming another project's images needs such a role: %w", err)
	}
	return err
}
