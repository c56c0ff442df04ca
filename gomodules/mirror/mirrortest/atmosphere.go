package mirrortest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

// An image set in the shape of VEXXHOST Atmosphere's atmosphere_images
// (roles/defaults/vars/main.yml): 232 names over 129 distinct references
// in 118 repositories of five registries; 90 references by tag, 38 by
// tag@digest, one by digest alone; the OpenStack images, pinned by digest,
// each carry from 1 to 22 names (heat's image serves 22 jobs) and share
// VEXXHOST's Ubuntu-based runtime layers; the Kubernetes sidecars come in
// several tags of one repository and as four-platform indexes on distroless
// layers; quay.io's Ceph and docker.io's Rook share a CentOS base; a Helm
// chart is stored as an OCI artifact. Names and repositories are made up;
// counts, forms, sharing and sizes follow the real dict and the real images.

// family is a base that images are built on: the sizes in MiB (as pushed,
// compressed) of its layers, shared by every image of that family and
// platform.
var families = map[string][]float64{
	"scratch":    nil,
	"distroless": {0.1, 0.3, 0.02, 0.01, 0.01, 0.2, 0.1}, // gcr.io/distroless/static: many small layers
	"busybox":    {1.1, 0.5},                             // quay.io/prometheus/busybox
	"alpine":     {3.4},
	"debian":     {28.2},
	"bitnami":    {28.2, 9.5, 0.01},
	"ubuntu":     {29.5},
	"openstack":  {29.5, 88, 14, 0.02}, // ubuntu + VEXXHOST's openstack-runtime (packages, python, config)
	"ubi":        {37, 0.01},
	"centos":     {58, 240, 0.05}, // the Ceph base: CentOS Stream and Ceph's packages
}

// group is a run of similar references in the set.
type group struct {
	registry    string  // the public registry the real images live in
	ns          string  // the repository's namespace ("" for none)
	names       string  // dict key prefix, and the repository's last segment (with dashes)
	tag         string  // tag, with %d for the tag's number in its repository
	count       int     // references in the group
	tagsPerRepo int     // references sharing one repository (different tags); default 1
	pinned      []int   // indexes of references written tag@digest (-1: all)
	digestOnly  bool    // references written repo@digest
	namesPer    []int   // names per reference, in order; default 1 each
	family      string  // base layers
	platforms   int     // 1 (an image), 2 or 4 (an index)
	ownMiB      float64 // median size of the image's own layers, per platform
	ownLayers   int     // how many own layers (the first takes most of the size)
	oci         bool    // OCI media types instead of Docker's
	helm        bool    // a Helm chart (OCI artifact), not an image
}

var all = []int{-1}

var atmosphereGroups = []group{
	// ghcr.io: 34 references, 135 names.
	{registry: "ghcr.io", ns: "vexxhost", names: "openstack", tag: "main", count: 25, pinned: all,
		namesPer: []int{22, 20, 14, 8, 7, 6, 5, 5, 5, 5, 5, 4, 3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1},
		family:   "openstack", platforms: 1, ownMiB: 150, ownLayers: 3},
	{registry: "ghcr.io", ns: "vexxhost", names: "openvswitch", tag: "v3.3.%d", count: 1, namesPer: []int{2},
		family: "ubuntu", platforms: 1, ownMiB: 60, ownLayers: 3},
	{registry: "ghcr.io", ns: "vexxhost", names: "tool", tag: "v1.%d", count: 6,
		family: "distroless", platforms: 2, ownMiB: 15, ownLayers: 1, oci: true},
	{registry: "ghcr.io", ns: "vexxhost/charts", names: "chart", tag: "v1.15.%d", count: 1, helm: true},
	{registry: "ghcr.io", ns: "carvel-dev", names: "controller", count: 1, digestOnly: true,
		family: "distroless", platforms: 2, ownMiB: 25, ownLayers: 1, oci: true},
	// docker.io: 24 references, 25 names.
	{registry: "docker.io", ns: "library", names: "rabbitmq", tag: "4.1.%d-management", count: 1, namesPer: []int{2},
		family: "ubuntu", platforms: 2, ownMiB: 80, ownLayers: 6},
	{registry: "docker.io", ns: "library", names: "server", tag: "1.%d", count: 3,
		family: "debian", platforms: 2, ownMiB: 25, ownLayers: 4},
	{registry: "docker.io", ns: "bitnamilegacy", names: "bitnami", tag: "8.0.%d-debian-12-r4", count: 3,
		family: "bitnami", platforms: 2, ownMiB: 20, ownLayers: 2},
	{registry: "docker.io", ns: "percona", names: "percona", tag: "8.0.%d", count: 4,
		family: "ubi", platforms: 1, ownMiB: 150, ownLayers: 5},
	{registry: "docker.io", ns: "rabbitmqoperator", names: "rabbitmq_operator", tag: "2.16.%d", count: 3,
		family: "distroless", platforms: 2, ownMiB: 20, ownLayers: 1},
	{registry: "docker.io", ns: "rook", names: "rook", tag: "v1.15.%d", count: 1,
		family: "centos", platforms: 2, ownMiB: 40, ownLayers: 2},
	{registry: "docker.io", ns: "misc", names: "dockerhub", tag: "v0.%d", count: 9,
		family: "alpine", platforms: 2, ownMiB: 40, ownLayers: 2},
	// quay.io: 37 references, 38 names.
	{registry: "quay.io", ns: "ceph", names: "ceph", tag: "v18.2.%d", count: 1,
		family: "centos", platforms: 2, ownMiB: 60, ownLayers: 2},
	{registry: "quay.io", ns: "cephcsi", names: "cephcsi", tag: "v3.11.%d", count: 1,
		family: "centos", platforms: 2, ownMiB: 50, ownLayers: 2},
	{registry: "quay.io", ns: "prometheus", names: "prometheus", tag: "v0.%d", count: 6, pinned: []int{5},
		family: "busybox", platforms: 4, ownMiB: 25, ownLayers: 1},
	{registry: "quay.io", ns: "jetstack", names: "cert_manager", tag: "v1.15.%d", count: 5,
		family: "distroless", platforms: 4, ownMiB: 15, ownLayers: 1},
	{registry: "quay.io", ns: "cilium", names: "cilium", tag: "v1.14.%d", count: 2,
		family: "ubuntu", platforms: 2, ownMiB: 60, ownLayers: 4},
	{registry: "quay.io", ns: "hpestorage", names: "hpe", tag: "v3.1.%d", count: 7, pinned: all,
		namesPer: []int{2, 1, 1, 1, 1, 1, 1}, family: "ubi", platforms: 1, ownMiB: 40, ownLayers: 3},
	{registry: "quay.io", ns: "ibmcsiblock", names: "ibm", tag: "1.11.%d", count: 5,
		family: "ubi", platforms: 1, ownMiB: 50, ownLayers: 3},
	{registry: "quay.io", ns: "keycloak", names: "keycloak", tag: "24.0.%d", count: 1,
		family: "ubi", platforms: 2, ownMiB: 150, ownLayers: 3},
	{registry: "quay.io", ns: "misc", names: "quay", tag: "v0.%d", count: 9,
		family: "alpine", platforms: 2, ownMiB: 20, ownLayers: 2, oci: true},
	// registry.k8s.io: 33 references, 33 names.
	{registry: "registry.k8s.io", ns: "sig-storage", names: "csi", tag: "v%d.0.0", count: 15, tagsPerRepo: 3,
		pinned: []int{2, 5, 8, 11, 14}, family: "distroless", platforms: 4, ownMiB: 12, ownLayers: 1, oci: true},
	{registry: "registry.k8s.io", ns: "ingress-nginx", names: "certgen", tag: "v1.5.%d", count: 2, tagsPerRepo: 2,
		family: "distroless", platforms: 4, ownMiB: 20, ownLayers: 1},
	{registry: "registry.k8s.io", ns: "cluster-api", names: "cluster_api", tag: "v1.13.%d", count: 4,
		family: "distroless", platforms: 4, ownMiB: 25, ownLayers: 1},
	{registry: "registry.k8s.io", ns: "", names: "kubernetes", tag: "v1.28.%d", count: 4,
		family: "distroless", platforms: 4, ownMiB: 30, ownLayers: 2},
	{registry: "registry.k8s.io", ns: "misc", names: "k8s", tag: "v0.%d", count: 8,
		family: "distroless", platforms: 4, ownMiB: 25, ownLayers: 2},
	// packages.vexxhost.com: 1 reference.
	{registry: "packages.vexxhost.com", ns: "", names: "smartctl_exporter", tag: "0.14.%d-1", count: 1,
		family: "alpine", platforms: 1, ownMiB: 10, ownLayers: 1},
}

var setPlatforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64"},
	{OS: "linux", Architecture: "ppc64le"},
	{OS: "linux", Architecture: "s390x"},
}

// SetImage is one distinct reference of a Set: where it goes, by which
// names it is known, and its layers per platform.
type SetImage struct {
	// Repo is the repository path below the registry, led by the public
	// registry's host ("quay.io/ceph/ceph"), so that names do not collide.
	Repo string
	// Tag is "" for a reference by digest alone.
	Tag string
	// Pinned references are written tag@digest (or @digest when Tag is "").
	Pinned bool
	// Names are the dict keys that point at this reference.
	Names []string
	// Platforms is one platform for an image, more for an index.
	Platforms []v1.Platform
	// Layers holds, per platform, the layers' ids and sizes in bytes.
	Layers [][]LayerSpec
	OCI    bool
	Helm   bool
}

// LayerSpec is one RandomLayer: the same ID means the same bytes.
type LayerSpec struct {
	ID   string
	Size int64
}

// Set is an image set to push to a registry.
type Set struct {
	Images []SetImage
}

// AtmosphereSet returns the set in Atmosphere's shape with its layer sizes
// scaled so that the distinct layers total about totalMiB (at least 1);
// 20 GiB would be about real size. The same totalMiB gives the same set,
// byte for byte.
func AtmosphereSet(totalMiB float64) (*Set, error) {
	if totalMiB < 1 {
		return nil, fmt.Errorf("total size %g MiB: expected at least 1", totalMiB)
	}
	rng := rand.New(rand.NewPCG(13, 232))
	set := &Set{}
	for _, g := range atmosphereGroups {
		for i := 0; i < g.count; i++ {
			set.Images = append(set.Images, g.image(i, rng))
		}
	}
	scale := totalMiB * (1 << 20) / float64(set.UniqueBytes())
	for i := range set.Images {
		for _, layers := range set.Images[i].Layers {
			for j := range layers {
				layers[j].Size = max(256, int64(float64(layers[j].Size)*scale))
			}
		}
	}
	return set, nil
}

func (g group) image(i int, rng *rand.Rand) SetImage {
	perRepo := max(1, g.tagsPerRepo)
	base := g.names
	if g.count > perRepo {
		base = fmt.Sprintf("%s%02d", g.names, i/perRepo)
	}
	repo := strings.TrimPrefix(g.ns+"/"+strings.ReplaceAll(base, "_", "-"), "/")
	img := SetImage{Repo: g.registry + "/" + repo, OCI: g.oci, Helm: g.helm, Pinned: g.digestOnly}
	if !g.digestOnly {
		img.Tag = g.tag
		if strings.Contains(img.Tag, "%") {
			img.Tag = fmt.Sprintf(img.Tag, i%perRepo+1)
		}
	}
	if perRepo > 1 {
		base = fmt.Sprintf("%s_%d", base, i%perRepo+1)
	}
	for _, p := range g.pinned {
		img.Pinned = img.Pinned || p == -1 || p == i
	}
	names := 1
	if i < len(g.namesPer) {
		names = g.namesPer[i]
	}
	for n := 0; n < names; n++ {
		if n == 0 {
			img.Names = append(img.Names, base)
		} else {
			img.Names = append(img.Names, fmt.Sprintf("%s_%d", base, n+1))
		}
	}
	if g.helm {
		img.Platforms = []v1.Platform{{}}
		img.Layers = [][]LayerSpec{{{ID: img.Repo + ":" + img.Tag + "/chart", Size: 40 << 10}}}
		return img
	}
	img.Platforms = setPlatforms[:g.platforms]
	// The image's own part: log-normal around the group's median, as real
	// images of one kind differ by a factor of two or so.
	own := g.ownMiB * math.Exp(rng.NormFloat64()*0.5)
	for _, p := range img.Platforms {
		var layers []LayerSpec
		for k, mib := range families[g.family] {
			layers = append(layers, LayerSpec{ID: fmt.Sprintf("family/%s/%s/%d", g.family, p, k), Size: mib2bytes(mib)})
		}
		for k := 0; k < g.ownLayers; k++ {
			share := 0.75 // the first own layer holds most of the image, the others split the rest
			if g.ownLayers == 1 {
				share = 1
			} else if k > 0 {
				share = 0.25 / float64(g.ownLayers-1)
			}
			layers = append(layers, LayerSpec{ID: fmt.Sprintf("%s:%s/%s/%d", img.Repo, img.Tag, p, k), Size: mib2bytes(own * share)})
		}
		img.Layers = append(img.Layers, layers)
	}
	return img
}

func mib2bytes(mib float64) int64 { return int64(mib * (1 << 20)) }

// UniqueBytes is the total size of the set's distinct layers.
func (s *Set) UniqueBytes() int64 {
	seen := map[string]int64{}
	for _, img := range s.Images {
		for _, layers := range img.Layers {
			for _, l := range layers {
				seen[l.ID] = l.Size
			}
		}
	}
	var total int64
	for _, size := range seen {
		total += size
	}
	return total
}

// Names is the number of names over all images.
func (s *Set) Names() int {
	n := 0
	for _, img := range s.Images {
		n += len(img.Names)
	}
	return n
}

// Push writes every image of the set to registry ("host:port", plain HTTP
// on 127.0.0.1), jobs at a time, and returns the dict of name -> reference
// as Atmosphere writes it (repo:tag, repo:tag@digest or repo@digest).
func (s *Set) Push(ctx context.Context, registry string, jobs int, opts ...remote.Option) (map[string]string, error) {
	pusher, err := remote.NewPusher(append(opts, remote.WithJobs(jobs))...)
	if err != nil {
		return nil, err
	}
	refs := make([]string, len(s.Images))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for i := range s.Images {
		g.Go(func() error {
			ref, err := s.Images[i].push(ctx, pusher, registry)
			refs[i] = ref
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for i, img := range s.Images {
		for _, n := range img.Names {
			out[n] = refs[i]
		}
	}
	return out, nil
}

func (img SetImage) push(ctx context.Context, pusher *remote.Pusher, registry string) (string, error) {
	t, err := img.build()
	if err != nil {
		return "", fmt.Errorf("building %s: %w", img.Repo, err)
	}
	digest, err := t.(interface{ Digest() (v1.Hash, error) }).Digest()
	if err != nil {
		return "", err
	}
	repo := registry + "/" + img.Repo
	text := repo + ":" + img.Tag
	if img.Tag == "" {
		text = repo + "@" + digest.String()
	}
	ref, err := name.ParseReference(text)
	if err != nil {
		return "", err
	}
	if err := pusher.Push(ctx, ref, t); err != nil {
		return "", fmt.Errorf("pushing %s: %w", text, err)
	}
	if img.Pinned && img.Tag != "" {
		text += "@" + digest.String()
	}
	return text, nil
}

// build makes the image, index or Helm chart.
func (img SetImage) build() (remote.Taggable, error) {
	manifestType, indexType, layerType, configType := types.DockerManifestSchema2, types.DockerManifestList, types.DockerLayer, types.DockerConfigJSON
	if img.OCI || img.Helm {
		manifestType, indexType, layerType, configType = types.OCIManifestSchema1, types.OCIImageIndex, types.OCILayer, types.OCIConfigJSON
	}
	if img.Helm {
		chart := static.NewLayer(randomBytes(img.Layers[0][0]), "application/vnd.cncf.helm.chart.content.v1.tar+gzip")
		base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, manifestType), "application/vnd.cncf.helm.config.v1+json")
		return mutate.Append(base, mutate.Addendum{Layer: chart})
	}
	images := make([]v1.Image, len(img.Platforms))
	labels := map[string]string{"org.imageops.bench.image": img.Repo + ":" + img.Tag}
	for i, p := range img.Platforms {
		var layers []v1.Layer
		for _, l := range img.Layers[i] {
			layers = append(layers, NewRandomLayer(l.ID, l.Size, layerType))
		}
		var err error
		if images[i], err = imageOf(manifestType, configType, p, labels, layers...); err != nil {
			return nil, err
		}
	}
	if len(images) == 1 {
		return images[0], nil
	}
	idx := mutate.IndexMediaType(empty.Index, indexType)
	for i, p := range img.Platforms {
		p := p
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: plainImage{images[i]}, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return idx, nil
}

// plainImage is listed in an index without an artifactType, as docker
// buildx and most real indexes list images (go-containerregistry would
// write the config's media type there, which skopeo 1.9 then refuses to
// copy to a digest reference).
type plainImage struct{ v1.Image }

// ArtifactType is empty: this is an image, not an artifact.
func (plainImage) ArtifactType() (string, error) { return "", nil }

func randomBytes(l LayerSpec) []byte {
	out := make([]byte, l.Size)
	_, _ = randomStream(l.ID).Read(out)
	return out
}

// OrderedNames returns every name, image by image, in the set's order.
func (s *Set) OrderedNames() []string {
	var out []string
	for _, img := range s.Images {
		out = append(out, img.Names...)
	}
	return out
}
