package azimuthimages

import (
	"context"

	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/fetch"
)

// ModuleName is the module's fully qualified name.
const ModuleName = "imageops.cloud.azimuth_images_manifest"

// givenSource names a manifest given as data in errors.
const givenSource = "the manifest given"

// ModuleSpec is the azimuth_images_manifest argument spec;
// plugins/modules/azimuth_images_manifest.py documents it (a test checks
// that they agree).
var ModuleSpec = ansible.Spec{
	Name:              ModuleName,
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"url":            {Type: ansible.TypeStr},
		"manifest":       {Type: ansible.TypeDict},
		"validate_certs": {Type: ansible.TypeBool, Default: true},
		"ca_cert":        {Type: ansible.TypePath},
	},
	MutuallyExclusive: [][]string{{"url", "manifest"}},
	RequiredOneOf:     [][]string{{"url", "manifest"}},
}

// ModuleOptions are the module's options.
type ModuleOptions struct {
	// URL is where to read the manifest: http, https or file.
	URL string `json:"url"`
	// Manifest is a manifest given as data; nothing is downloaded.
	Manifest map[string]any `json:"manifest"`
	// ValidateCerts verifies https certificates when true.
	ValidateCerts bool `json:"validate_certs"`
	// CACert is a PEM bundle of further trusted certificate authorities.
	CACert string `json:"ca_cert"`
}

// ModuleResult is what the module returns.
type ModuleResult struct {
	// Changed is always false: the module only reads.
	Changed bool `json:"changed"`
	// Manifest is the manifest as read: build name -> entry.
	Manifest map[string]map[string]any `json:"manifest"`
	// Images are the community image specs azimuth-ops makes of it, by key.
	Images map[string]Spec `json:"images"`
}

// RunModule is the module's ansible.RunFunc: it reads or checks the
// manifest and returns it with its specs. It writes nothing, so check mode
// changes nothing.
func RunModule(ctx context.Context, m *ansible.Module) (any, error) {
	var opts ModuleOptions
	if err := m.Decode(&opts); err != nil {
		return nil, err
	}
	manifest, err := opts.read(ctx)
	if err != nil {
		return nil, err
	}
	specs, warnings := manifest.Specs()
	for _, warning := range warnings {
		m.Warn("%s", warning)
	}
	return ModuleResult{Manifest: manifest.Fields(), Images: specs}, nil
}

func (o ModuleOptions) read(ctx context.Context) (Manifest, error) {
	if o.URL == "" {
		return ParseFields(o.Manifest, givenSource)
	}
	fetchOpts := []fetch.Option{fetch.WithInsecureSkipVerify(!o.ValidateCerts)}
	if o.CACert != "" {
		fetchOpts = append(fetchOpts, fetch.WithCAFile(o.CACert))
	}
	return Read(ctx, o.URL, fetchOpts...)
}
