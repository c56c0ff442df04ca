package conn

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// glanceOnlyCloud is a clouds.yaml entry for a Glance without Keystone.
func glanceOnlyCloud(name, glanceURL string) string {
	return fmt.Sprintf("  %s:\n    auth_type: none\n    image_endpoint_override: %s\n", name, glanceURL)
}

// connectAndList connects with cfg, lists images and returns the clients.
func connectAndList(t *testing.T, cfg Config) *Clients {
	t.Helper()
	clients, err := Connect(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	image, err := clients.Image()
	if err != nil {
		t.Fatalf("Image: %v", err)
	}
	if err := listImages(t, image); err != nil {
		t.Fatalf("listing images: %v", err)
	}
	return clients
}

func TestCloudsYAMLLocations(t *testing.T) {
	for _, c := range []struct {
		name  string
		place func(t *testing.T, work, content string) string // writes clouds.yaml, returns its path
	}{
		{"OS_CLIENT_CONFIG_FILE", func(t *testing.T, work, content string) string {
			path := writeFile(t, filepath.Join(t.TempDir(), "elsewhere", "my-clouds.yaml"), content)
			t.Setenv("OS_CLIENT_CONFIG_FILE", path)
			return path
		}},
		{"./clouds.yaml", func(t *testing.T, work, content string) string {
			return writeFile(t, filepath.Join(work, "clouds.yaml"), content)
		}},
		{"$XDG_CONFIG_HOME/openstack/clouds.yaml", func(t *testing.T, work, content string) string {
			xdg := t.TempDir()
			t.Setenv("XDG_CONFIG_HOME", xdg)
			return writeFile(t, filepath.Join(xdg, "openstack", "clouds.yaml"), content)
		}},
		{"~/.config/openstack/clouds.yaml without XDG_CONFIG_HOME", func(t *testing.T, work, content string) string {
			t.Setenv("XDG_CONFIG_HOME", "")
			return writeFile(t, filepath.Join(os.Getenv("HOME"), ".config", "openstack", "clouds.yaml"), content)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			work := isolate(t)
			glance := newGlanceStub(t, false)
			path := c.place(t, work, "clouds:\n"+glanceOnlyCloud("glance-only", glance.URL()))
			clients := connectAndList(t, Config{Cloud: "glance-only"})
			if want := fmt.Sprintf("cloud %q (%s)", "glance-only", path); clients.Name != want {
				t.Errorf("Name = %q, want %q", clients.Name, want)
			}
			if got := glance.Requests(); len(got) != 1 || got[0].Path != "/v2/images" {
				t.Errorf("Glance saw %v", got)
			}
		})
	}
}

func TestCloudsYAMLSearchOrder(t *testing.T) {
	work := isolate(t)
	inWork, inConfig := newGlanceStub(t, false), newGlanceStub(t, false)
	writeFile(t, filepath.Join(work, "clouds.yaml"), "clouds:\n"+glanceOnlyCloud("c", inWork.URL()))
	writeFile(t, filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "openstack", "clouds.yaml"),
		"clouds:\n"+glanceOnlyCloud("c", inConfig.URL()))

	connectAndList(t, Config{Cloud: "c"})
	if len(inWork.Requests()) != 1 || len(inConfig.Requests()) != 0 {
		t.Fatalf("./clouds.yaml must win over the user's: work %v, config %v", inWork.Requests(), inConfig.Requests())
	}

	// OS_CLIENT_CONFIG_FILE is the only place looked at when set.
	t.Setenv("OS_CLIENT_CONFIG_FILE", filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "openstack", "clouds.yaml"))
	connectAndList(t, Config{Cloud: "c"})
	if len(inConfig.Requests()) != 1 {
		t.Fatalf("OS_CLIENT_CONFIG_FILE was not used: %v", inConfig.Requests())
	}
}

func TestOSCloudNamesTheCloud(t *testing.T) {
	work := isolate(t)
	glance, other := newGlanceStub(t, false), newGlanceStub(t, false)
	writeFile(t, filepath.Join(work, "clouds.yaml"),
		"clouds:\n"+glanceOnlyCloud("first", other.URL())+glanceOnlyCloud("chosen", glance.URL()))
	t.Setenv("OS_CLOUD", "chosen")
	connectAndList(t, Config{})
	if len(glance.Requests()) != 1 || len(other.Requests()) != 0 {
		t.Fatalf("OS_CLOUD=chosen reached chosen %v, first %v", glance.Requests(), other.Requests())
	}
	// The cloud option wins over OS_CLOUD.
	connectAndList(t, Config{Cloud: "first"})
	if len(other.Requests()) != 1 {
		t.Fatalf("cloud: first was not used: %v", other.Requests())
	}
}

func TestCloudNotFoundListsTheClouds(t *testing.T) {
	work := isolate(t)
	path := writeFile(t, filepath.Join(work, "clouds.yaml"),
		"clouds:\n"+glanceOnlyCloud("beta", "http://127.0.0.1:1")+glanceOnlyCloud("alpha", "http://127.0.0.1:1"))
	_, err := Connect(context.Background(), Config{Cloud: "prod"})
	want := fmt.Sprintf(`cloud "prod" not found in %s (clouds there: alpha, beta)`, path)
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

func TestNoCloudAndNoAuth(t *testing.T) {
	isolate(t)
	_, err := Connect(context.Background(), Config{Interface: "public"})
	want := "no cloud to connect to: give the cloud option, set OS_CLOUD, or give auth (or auth_type: none with image_endpoint_override)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

func TestNoCloudsYAMLForANamedCloud(t *testing.T) {
	if _, err := os.Stat("/etc/openstack/clouds.yaml"); err == nil {
		t.Skip("/etc/openstack/clouds.yaml exists on this machine")
	}
	work := isolate(t)
	_, err := Connect(context.Background(), Config{Cloud: "prod"})
	if err == nil || !strings.HasPrefix(err.Error(), `finding cloud "prod": no clouds.yaml found; looked in [`) ||
		!strings.Contains(err.Error(), filepath.Join(work, "clouds.yaml")) || !strings.Contains(err.Error(), "OS_CLIENT_CONFIG_FILE") {
		t.Fatalf("error %v", err)
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", filepath.Join(work, "missing.yaml"))
	_, err = Connect(context.Background(), Config{Cloud: "prod"})
	if err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("with OS_CLIENT_CONFIG_FILE pointing nowhere: %v", err)
	}
}
