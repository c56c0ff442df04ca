package imagebuild

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/imageops/cloud/gomodules/redact"
)

// Components are kubernetes-sigs image-builder's load_additional_components
// variables, with its meanings: nothing is loaded unless
// load_additional_components is set, and each list only when its own switch
// is set too. Container images are stored in the image as tarballs
// (registry images pulled here with go-containerregistry, for the image's
// platform linux/amd64; URL images as downloaded) and imported into
// containerd's k8s.io namespace at first boot by the systemd unit
// imageops-load-images.service, before cloud-init's final stage; registry
// images are unpacked as image-builder's `ctr images pull` does, URL images
// imported with --no-unpack as image-builder does.
type Components struct {
	LoadAdditionalComponents     bool     `json:"load_additional_components"`
	AdditionalRegistryImages     bool     `json:"additional_registry_images"`
	AdditionalRegistryImagesList []string `json:"additional_registry_images_list"`
	AdditionalURLImages          bool     `json:"additional_url_images"`
	AdditionalURLImagesList      []string `json:"additional_url_images_list"`
	// AdditionalExecutablesList are URLs downloaded into
	// AdditionalExecutablesDestinationPath (a directory in the image), each
	// named after its URL's last path element, mode 0711.
	AdditionalExecutables                bool     `json:"additional_executables"`
	AdditionalExecutablesList            []string `json:"additional_executables_list"`
	AdditionalExecutablesDestinationPath string   `json:"additional_executables_destination_path"`
}

// In the image: where the container images wait for their import, and the
// unit and script that import them.
const (
	imagesDir       = "var/lib/imageops/images"
	loadImagesUnit  = "imageops-load-images.service"
	loadImagesProgr = "usr/lib/imageops/load-images"
	imagePlatform   = "linux/amd64"
	// containerdPackage is installed when images are loaded and neither
	// packages nor extra_debs names a containerd package.
	containerdPackage = "containerd"
)

func (c *Components) normalize() {
	c.AdditionalRegistryImagesList = words(c.AdditionalRegistryImagesList)
	c.AdditionalURLImagesList = words(c.AdditionalURLImagesList)
	c.AdditionalExecutablesList = words(c.AdditionalExecutablesList)
}

// RegistryImages, URLImages and Executables are the lists that are loaded:
// each needs load_additional_components and its own switch.
func (c Components) RegistryImages() []string {
	return c.ifOn(c.AdditionalRegistryImages, c.AdditionalRegistryImagesList)
}

// URLImages: see RegistryImages.
func (c Components) URLImages() []string {
	return c.ifOn(c.AdditionalURLImages, c.AdditionalURLImagesList)
}

// Executables: see RegistryImages.
func (c Components) Executables() []string {
	return c.ifOn(c.AdditionalExecutables, c.AdditionalExecutablesList)
}

func (c Components) ifOn(on bool, list []string) []string {
	if c.LoadAdditionalComponents && on {
		return list
	}
	return nil
}

// Ignored names the lists given whose switches are off, as image-builder
// ignores them; the module warns about each.
func (c Components) Ignored() []string {
	var ignored []string
	for _, l := range []struct {
		name string
		on   bool
		list []string
	}{
		{"additional_registry_images", c.AdditionalRegistryImages, c.AdditionalRegistryImagesList},
		{"additional_url_images", c.AdditionalURLImages, c.AdditionalURLImagesList},
		{"additional_executables", c.AdditionalExecutables, c.AdditionalExecutablesList},
	} {
		if len(l.list) > 0 && !(c.LoadAdditionalComponents && l.on) {
			ignored = append(ignored, fmt.Sprintf("%s_list is ignored: it is loaded only when load_additional_components and %s are true (as in image-builder)", l.name, l.name))
		}
	}
	return ignored
}

func (c Components) loadsImages() bool { return len(c.RegistryImages())+len(c.URLImages()) > 0 }

func (c Components) check(bad badValue) error {
	for _, ref := range c.RegistryImages() {
		if _, _, err := parseImageReference(ref); err != nil {
			return bad("additional_registry_images_list", ref, err.Error())
		}
	}
	for _, u := range c.URLImages() {
		if !isHTTPURL(u) {
			return bad("additional_url_images_list", redact.URL(u), "expected an http or https URL of an image tarball (docker save or OCI archive)")
		}
	}
	seen := map[string]string{}
	for _, u := range c.Executables() {
		base := urlBase(u)
		if !isHTTPURL(u) || base == "" {
			return bad("additional_executables_list", redact.URL(u), "expected an http or https URL whose path ends in the executable's file name")
		}
		if other, ok := seen[base]; ok {
			return bad("additional_executables_list", redact.URL(u), fmt.Sprintf("expected distinct file names: %s is also the name of %s", base, redact.URL(other)))
		}
		seen[base] = u
	}
	if len(c.Executables()) > 0 && !filepath.IsAbs(c.AdditionalExecutablesDestinationPath) {
		return bad("additional_executables_destination_path", c.AdditionalExecutablesDestinationPath,
			"expected the absolute path of a directory in the image, such as /usr/local/bin")
	}
	return nil
}

// parseImageReference reads repo:tag or repo:tag@sha256:... (repo alone is
// repo:latest, as docker reads it): the tag names the image in containerd,
// the digest (when given) pins what is pulled.
func parseImageReference(ref string) (name.Tag, name.Reference, error) {
	tagPart, digest, pinned := strings.Cut(ref, "@")
	tag, err := name.NewTag(tagPart)
	if err == nil && pinned && !strings.Contains(tagPart[strings.LastIndex(tagPart, "/")+1:], ":") {
		err = fmt.Errorf("a digest without a tag")
	}
	if err != nil {
		return name.Tag{}, nil, fmt.Errorf("expected an image reference with a tag, repo:tag or repo:tag@sha256:<digest> (the tag names the image in containerd): %v", err)
	}
	if !pinned {
		return tag, tag, nil
	}
	d, err := name.NewDigest(tag.Context().Name() + "@" + digest)
	if err != nil {
		return name.Tag{}, nil, fmt.Errorf("expected repo:tag@sha256:<64 hex digits>: %v", err)
	}
	return tag, d, nil
}

func isHTTPURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func urlBase(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || strings.HasSuffix(u.Path, "/") {
		return ""
	}
	if base := path.Base(u.Path); base != "." && base != "/" {
		return base
	}
	return ""
}

// needsContainerd tells whether containerd must be added to the packages:
// images are loaded and no containerd package is named.
func (c Config) needsContainerd() bool {
	if !c.loadsImages() {
		return false
	}
	named := func(p string) bool {
		n, _, _ := strings.Cut(p, "=")
		return n == containerdPackage || n == "containerd.io"
	}
	return !slices.ContainsFunc(c.Packages, named) && !slices.ContainsFunc(c.ExtraDebs, named)
}

// fetchComponents downloads the components into a folder laid out as the
// image's root, copied in by the customize hook. It runs before the
// bootstrap, so that a missing image fails the build early.
func (b *builder) fetchComponents(ctx context.Context, rec *Record) error {
	dir := b.componentsDir()
	client := &http.Client{Transport: b.transport()}
	for i, ref := range b.cfg.RegistryImages() {
		b.progress("fetch: pulling %s", ref)
		if err := pullImage(ctx, ref, filepath.Join(dir, imagesDir, fmt.Sprintf("registry-%02d.tar", i)), client.Transport); err != nil {
			return err
		}
	}
	for i, u := range b.cfg.URLImages() {
		b.progress("fetch: downloading %s", redact.URL(u))
		if err := download(ctx, client, u, filepath.Join(dir, imagesDir, fmt.Sprintf("url-%02d.tar", i)), 0o600); err != nil {
			return err
		}
	}
	for _, u := range b.cfg.Executables() {
		b.progress("fetch: downloading %s", redact.URL(u))
		dest := filepath.Join(dir, b.cfg.AdditionalExecutablesDestinationPath, urlBase(u))
		if err := download(ctx, client, u, dest, 0o711); err != nil {
			return err
		}
	}
	if b.cfg.loadsImages() {
		return writeLoadImagesUnit(dir)
	}
	return nil
}

func (b *builder) componentsDir() string { return filepath.Join(b.work, "components") }

func (b *builder) fetchesComponents() bool {
	return b.cfg.loadsImages() || len(b.cfg.Executables()) > 0
}

func pullImage(ctx context.Context, ref, dest string, transport http.RoundTripper) error {
	tag, source, err := parseImageReference(ref)
	if err != nil {
		return fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	platform, err := v1.ParsePlatform(imagePlatform)
	if err != nil {
		return err
	}
	img, err := remote.Image(source, remote.WithContext(ctx), remote.WithTransport(transport),
		remote.WithPlatform(*platform), remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		return fmt.Errorf("pulling image %q: %w", ref, err)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return fmt.Errorf("creating %q: %w", filepath.Dir(dest), err)
	}
	if err := tarball.WriteToFile(dest, tag, img); err != nil {
		return fmt.Errorf("writing image %q to %q: %w", ref, dest, err)
	}
	return nil
}

// download writes the body of a GET of u to dest with mode perm.
func download(ctx context.Context, client *http.Client, u, dest string, perm os.FileMode) error {
	shown := redact.URL(u)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("requesting %s: %v", shown, redact.URL(err.Error()))
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("downloading %s: %s", shown, redactURLsIn(err.Error(), u))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("downloading %s: HTTP status %s, expected 200 OK", shown, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return fmt.Errorf("creating %q: %w", filepath.Dir(dest), err)
	}
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("creating %q: %w", dest, err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		return fmt.Errorf("downloading %s into %q: %s", shown, dest, redactURLsIn(err.Error(), u))
	}
	if err := f.Chmod(perm); err != nil { // the umask may have narrowed it
		return fmt.Errorf("setting the mode of %q: %w", dest, err)
	}
	return f.Close()
}

func redactURLsIn(text, u string) string { return strings.ReplaceAll(text, u, redact.URL(u)) }

// writeLoadImagesUnit writes the first-boot import: a script and a unit
// enabled in multi-user.target, ordered after containerd and before
// cloud-init's final stage (where Cluster API runs kubeadm). Each tarball is
// removed once imported, so that the unit, whose condition is a non-empty
// images directory, does nothing at later boots.
func writeLoadImagesUnit(root string) error {
	script := `#!/bin/sh
# Imports the container images that imageops.cloud image_build stored into
# containerd's k8s.io namespace, once: each tarball is removed when imported.
set -eu
dir=/` + imagesDir + `
for f in "$dir"/registry-*.tar; do
  [ -e "$f" ] || continue
  ctr --namespace k8s.io images import "$f"
  rm -f "$f"
done
for f in "$dir"/url-*.tar; do
  [ -e "$f" ] || continue
  ctr --namespace k8s.io images import --no-unpack "$f"
  rm -f "$f"
done
echo "imageops-load-images: containerd (k8s.io) holds:"
ctr --namespace k8s.io images list --quiet
`
	unit := `[Unit]
Description=Import the container images stored in the image into containerd (imageops.cloud image_build)
Wants=containerd.service
After=containerd.service
Before=cloud-final.service
ConditionDirectoryNotEmpty=/` + imagesDir + `

[Service]
Type=oneshot
ExecStart=/` + loadImagesProgr + `
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
`
	units := filepath.Join(root, "etc/systemd/system")
	for _, f := range []struct {
		path, content string
		mode          os.FileMode
	}{{filepath.Join(root, loadImagesProgr), script, 0o755}, {filepath.Join(units, loadImagesUnit), unit, 0o644}} {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			return fmt.Errorf("creating %q: %w", filepath.Dir(f.path), err)
		}
		if err := os.WriteFile(f.path, []byte(f.content), f.mode); err != nil {
			return fmt.Errorf("writing %q: %w", f.path, err)
		}
	}
	wants := filepath.Join(units, "multi-user.target.wants")
	if err := os.MkdirAll(wants, 0o755); err != nil {
		return fmt.Errorf("creating %q: %w", wants, err)
	}
	if err := os.Symlink("../"+loadImagesUnit, filepath.Join(wants, loadImagesUnit)); err != nil {
		return fmt.Errorf("enabling %s: %w", loadImagesUnit, err)
	}
	return nil
}
