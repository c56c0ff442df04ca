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
	AuthType                  string `yaml:"auth_type"`
	ImageEndpointOverride     string `yaml:"image_endpoint_override"`
	ComputeEndpointOverride   string `yaml:"compute_endpoint_override"`
	BaremetalEndpointOverride string `yaml:"baremetal_endpoint_override"`
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
// with the same cloud's entry of the secure.yaml beside it merged over it (as
// openstacksdk and gophercloud do), as a generic map (for merging inline auth
// over it and handing it to clouds.Parse) and as rawCloud.
func readCloudEntry(path, name string) (map[string]any, rawCloud, error) {
	clouds, err := readClouds(path)
	if err != nil {
		return nil, rawCloud{}, err
	}
	entry, ok := clouds[name].(map[string]any)
	if !ok {
		return nil, rawCloud{}, fmt.Errorf("cloud %q not found in %s (clouds there: %s)", name, path, cloudNames(clouds))
	}
	securePath := filepath.Join(filepath.Dir(path), "secure.yaml")
	if _, err := os.Stat(securePath); err == nil {
		secure, err := readClouds(securePath)
		if err != nil {
			return nil, rawCloud{}, err
		}
		if secureEntry, ok := secure[name].(map[string]any); ok {
			entry = mergeMaps(entry, secureEntry)
		}
	}
	var raw rawCloud
	encoded, _ := yaml.Marshal(entry)
	if err := yaml.Unmarshal(encoded, &raw); err != nil {
		return nil, rawCloud{}, fmt.Errorf("parsing cloud %q in %s: %w", name, path, err)
	}
	return entry, raw, nil
}

// readClouds returns the "clouds" mapping of a clouds.yaml or secure.yaml.
func readClouds(path string) (map[string]any, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var file struct {
		Clouds map[string]any `yaml:"clouds"`
	}
	if err := yaml.Unmarshal(content, &file); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	clouds, _ := plainYAML(file.Clouds).(map[string]any)
	return clouds, nil
}

// plainYAML turns yaml.v2's map[interface{}]interface{} into map[string]any,
// at every depth.
func plainYAML(value any) any {
	switch v := value.(type) {
	case map[any]any:
		out := make(map[string]any, len(v))
		for key, item := range v {
			out[fmt.Sprint(key)] = plainYAML(item)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for key, item := range v {
			out[key] = plainYAML(item)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			out[i] = plainYAML(item)
		}
		return out
	}
	return value
}

// mergeMaps returns base with over's keys set over it; maps are merged key by
// key, anything else in over replaces base's value.
func mergeMaps(base, over map[string]any) map[string]any {
	merged := make(map[string]any, len(base)+len(over))
	for key, value := range base {
		merged[key] = value
	}
	for key, value := range over {
		baseMap, baseIsMap := merged[key].(map[string]any)
		overMap, overIsMap := value.(map[string]any)
		if baseIsMap && overIsMap {
			merged[key] = mergeMaps(baseMap, overMap)
		} else {
			merged[key] = value
		}
	}
	return merged
}

func cloudNames(clouds map[string]any) string {
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
