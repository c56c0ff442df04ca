package conn

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v2"
)

// rawCloud holds the clouds.yaml keys that gophercloud's clouds.Cloud type
// drops but that openstacksdk honours for standalone services.
type rawCloud struct {
	AuthType                string `yaml:"auth_type"`
	ImageEndpointOverride   string `yaml:"image_endpoint_override"`
	ComputeEndpointOverride string `yaml:"compute_endpoint_override"`
}

// cloudsYAMLLocations lists where clouds.yaml is looked for, in the order
// gophercloud's clouds.Parse (and openstacksdk) use. We need the path itself
// because clouds.Parse does not return it, and the raw keys above must be read
// from the same file that clouds.Parse reads: the path found here is handed to
// clouds.Parse with WithLocations, so the two can never disagree.
func cloudsYAMLLocations() []string {
	if path := os.Getenv("OS_CLIENT_CONFIG_FILE"); path != "" {
		return []string{path}
	}
	var locations []string
	if cwd, err := os.Getwd(); err == nil {
		locations = append(locations, filepath.Join(cwd, "clouds.yaml"))
	}
	if configDir, err := os.UserConfigDir(); err == nil {
		locations = append(locations, filepath.Join(configDir, "openstack", "clouds.yaml"))
	}
	return append(locations, "/etc/openstack/clouds.yaml")
}

// findCloudsYAML returns the first clouds.yaml that exists.
func findCloudsYAML() (string, error) {
	locations := cloudsYAMLLocations()
	for _, path := range locations {
		if _, err := os.Stat(path); err == nil {
			return path, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("reading %s: %w", path, err)
		}
	}
	return "", fmt.Errorf("no clouds.yaml found; looked in %v (set OS_CLIENT_CONFIG_FILE, or give the auth option)", locations)
}

// readCloudEntry returns the named cloud's entry in the clouds.yaml at path,
// as a generic map (for merging inline auth over it) and as rawCloud.
func readCloudEntry(path, name string) (map[string]any, rawCloud, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, rawCloud{}, fmt.Errorf("reading %s: %w", path, err)
	}
	var file struct {
		Clouds map[string]yaml.MapSlice `yaml:"clouds"`
	}
	if err := yaml.Unmarshal(content, &file); err != nil {
		return nil, rawCloud{}, fmt.Errorf("parsing %s: %w", path, err)
	}
	entry, ok := file.Clouds[name]
	if !ok {
		return nil, rawCloud{}, fmt.Errorf("cloud %q not found in %s (clouds there: %s)", name, path, cloudNames(file.Clouds))
	}
	generic := map[string]any{}
	for _, item := range entry {
		generic[fmt.Sprint(item.Key)] = item.Value
	}
	var raw rawCloud
	encoded, _ := yaml.Marshal(entry)
	if err := yaml.Unmarshal(encoded, &raw); err != nil {
		return nil, rawCloud{}, fmt.Errorf("parsing cloud %q in %s: %w", name, path, err)
	}
	return generic, raw, nil
}

func cloudNames(clouds map[string]yaml.MapSlice) string {
	names := make([]string, 0, len(clouds))
	for name := range clouds {
		names = append(names, name)
	}
	if len(names) == 0 {
		return "none"
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
