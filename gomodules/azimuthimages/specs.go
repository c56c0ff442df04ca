package azimuthimages

import (
	"fmt"
	"strings"
)

// Spec is one community image spec, as azimuth-ops builds it from a manifest
// entry; its JSON form is the community_image options of that name.
type Spec struct {
	Name              string `json:"name"`
	SourceURL         string `json:"source_url"`
	Checksum          string `json:"checksum,omitempty"`
	ChecksumSHA512    string `json:"checksum_sha512,omitempty"`
	SourceDiskFormat  string `json:"source_disk_format"`
	ContainerFormat   string `json:"container_format"`
	KubernetesVersion string `json:"kubernetes_version,omitempty"`
}

// Builds that azimuth-ops uploads under a key of its own, and the keys: the
// Cluster-as-a-Service appliances read community_images_image_ids.repo2docker,
// .workstation and .rstudio (roles/azimuth_caas_operator).
var appliances = map[string]string{
	"jupyter-repo2docker": "repo2docker",
	"ubuntu-desktop":      "workstation",
	"linux-rstudio":       "rstudio",
}

// ImageKey returns the community_images key azimuth-ops gives an entry, and false
// for the entries it does not upload. A Kubernetes image's key is kube_ and
// its version's major and minor ("v1.34.10" -> kube_1_34), the key
// capi_cluster and azimuth_capi_operator look up.
func (e Entry) ImageKey() (string, bool) {
	if e.KubernetesVersion != "" {
		parts := strings.Split(strings.TrimPrefix(e.KubernetesVersion, "v"), ".")
		return "kube_" + strings.Join(parts[:len(parts)-1], "_"), true
	}
	key, ok := appliances[e.Build]
	return key, ok
}

// Specs returns the community image specs of the manifest's entries, by key.
// When two entries take one key (two builds of one Kubernetes minor), the
// later one in the file wins, as in azimuth-ops; a warning names both.
func (m Manifest) Specs() (specs map[string]Spec, warnings []string) {
	specs = map[string]Spec{}
	from := map[string]string{}
	for _, e := range m.Entries {
		key, ok := e.ImageKey()
		if !ok {
			continue
		}
		if earlier, taken := from[key]; taken {
			warnings = append(warnings, fmt.Sprintf("manifest builds %q and %q both become %s; %q is used, as azimuth-ops uses the later one",
				earlier, e.Build, key, e.Build))
		}
		from[key] = e.Build
		specs[key] = Spec{Name: e.Name, SourceURL: e.URL, Checksum: e.Checksum, ChecksumSHA512: e.ChecksumSHA512,
			SourceDiskFormat: "qcow2", ContainerFormat: "bare", KubernetesVersion: e.KubernetesVersion}
	}
	return specs, warnings
}
