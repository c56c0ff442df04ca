package deployer

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	json "github.com/goccy/go-json"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imageops/cloud/gomodules/ingest"
	"github.com/imageops/cloud/gomodules/internal/testenv"
)

// These tests run against the real local Glance (scripts/glance.sh), with
// catalogs and real disk images served over HTTP on 127.0.0.1.

// site is one test's Glance, catalog directory and production name.
type site struct {
	t      *testing.T
	glance *gophercloud.ServiceClient
	dir    string
	url    string
	name   string
}

func newSite(t *testing.T) *site {
	t.Helper()
	glance := testenv.Glance(t)
	dir := t.TempDir()
	server := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(server.Close)
	s := &site{t: t, glance: glance, dir: dir, url: server.URL, name: testenv.UniqueName(t, glance, "deploy")}
	t.Cleanup(s.removeAll)
	return s
}

// removeAll deletes every image of the release name: current, superseded, incoming.
func (s *site) removeAll() {
	ctx := context.Background()
	for _, hidden := range []bool{false, true} {
		pages, err := images.List(s.glance, images.ListOpts{Visibility: "all", Hidden: hidden}).AllPages(ctx)
		if err != nil {
			return
		}
		found, _ := images.ExtractImages(pages)
		for _, image := range found {
			if textProperty(&image, ReleaseNameProperty) == s.name {
				_ = images.Delete(ctx, s.glance, image.ID).ExtractErr()
			}
		}
	}
}

// file copies src into the served directory at rel and returns its URL.
func (s *site) file(rel, src string) string {
	s.t.Helper()
	content, err := os.ReadFile(src)
	require.NoError(s.t, err)
	return s.write(rel, content)
}

func (s *site) write(rel string, content []byte) string {
	s.t.Helper()
	path := filepath.Join(s.dir, rel)
	require.NoError(s.t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(s.t, os.WriteFile(path, content, 0o644))
	return s.url + "/" + rel
}

func (s *site) writeJSON(rel string, value any) string {
	s.t.Helper()
	content, err := json.Marshal(value)
	require.NoError(s.t, err)
	return s.write(rel, content)
}

func (s *site) deploy(catalog string, checkMode bool) (Result, error) {
	s.t.Helper()
	return New(testenv.GlanceClient(s.t, s.glance), nil).Deploy(context.Background(), Options{CatalogURL: catalog}, checkMode)
}

// waiting uploads what a run that stopped after its upload leaves: the
// release under the incoming name, private and active.
func (s *site) waiting(version, source string) (ingest.Result, error) {
	return ingest.New(testenv.GlanceClient(s.t, s.glance)).Ensure(context.Background(), ingest.Options{
		Name: s.name + incomingSuffix, State: "present", SourceURL: source, DiskFormat: "qcow2", ContainerFormat: "bare",
		Visibility: "private", Properties: map[string]any{ReleaseProperty: version, ReleaseNameProperty: s.name},
	}, false)
}

// deployed deploys release version from source with an azimuth catalog and
// returns the catalog's URL and the production image.
func (s *site) deployed(version, source string) (string, images.Image) {
	s.t.Helper()
	catalog := s.writeJSON("manifest.json", map[string]any{s.name: map[string]any{"name": version, "url": source}})
	_, err := s.deploy(catalog, false)
	require.NoError(s.t, err)
	return catalog, s.images()[s.name]
}

// all lists every image of the Glance, in every visibility.
func (s *site) all() []images.Image {
	s.t.Helper()
	pages, err := images.List(s.glance, images.ListOpts{Visibility: "all"}).AllPages(context.Background())
	require.NoError(s.t, err)
	found, err := images.ExtractImages(pages)
	require.NoError(s.t, err)
	return found
}

// images returns the images of the release name, by name.
func (s *site) images() map[string]images.Image {
	s.t.Helper()
	out := map[string]images.Image{}
	for _, image := range s.all() {
		if textProperty(&image, ReleaseNameProperty) == s.name {
			require.NotContains(s.t, out, image.Name, "two images named %q", image.Name)
			out[image.Name] = image
		}
	}
	return out
}

func TestAzimuthReleasesAreDeployedSupersededAndKeptOnFailure(t *testing.T) {
	s := newSite(t)
	im := testenv.RealImages(t)
	v1 := s.file("v1/disk.qcow2", im.QCOW2)
	catalog := s.writeJSON("manifest.json", map[string]any{
		s.name: map[string]any{"name": s.name + "-240101", "url": v1, "checksum_sha512": "sha512:" + testenv.SHA512File(t, im.QCOW2)},
	})

	first, err := s.deploy(catalog, false)
	require.NoError(t, err)
	assert.True(t, first.Changed)
	require.Len(t, first.Deployed, 1)
	assert.Equal(t, s.name+"-240101", first.Deployed[0].Version)
	site := s.images()
	require.Len(t, site, 1)
	production := site[s.name]
	assert.Equal(t, first.Deployed[0].ID, production.ID)
	assert.Equal(t, images.ImageVisibilityPublic, production.Visibility)
	assert.Equal(t, images.ImageStatusActive, production.Status)
	assert.Equal(t, s.name+"-240101", textProperty(&production, ReleaseProperty))

	again, err := s.deploy(catalog, false)
	require.NoError(t, err)
	assert.False(t, again.Changed)
	assert.Empty(t, again.Deployed)
	assert.Equal(t, []Deployment{{Name: s.name, Version: s.name + "-240101", ID: production.ID}}, again.Current)
	assert.Equal(t, production.UpdatedAt, s.images()[s.name].UpdatedAt, "a re-run writes nothing")

	v2 := s.file("v2/disk.qcow2.gz", im.QCOW2Gzip)
	s.writeJSON("manifest.json", map[string]any{s.name: map[string]any{"name": s.name + "-240201", "url": v2}})
	checked, err := s.deploy(catalog, true)
	require.NoError(t, err)
	assert.True(t, checked.Changed)
	require.Len(t, checked.Deployed, 1)
	assert.Equal(t, production.ID, checked.Deployed[0].PreviousID)
	assert.Len(t, s.images(), 1, "check mode uploads nothing")

	newer, err := s.deploy(catalog, false)
	require.NoError(t, err)
	require.Len(t, newer.Deployed, 1)
	deployed := newer.Deployed[0]
	archive := s.name + "-" + production.CreatedAt.UTC().Format("20060102T150405Z")
	assert.Equal(t, archive, deployed.PreviousName)
	assert.Equal(t, checked.Deployed[0].PreviousName, deployed.PreviousName, "check mode predicted the rename")
	site = s.images()
	require.Len(t, site, 2)
	assert.Equal(t, deployed.ID, site[s.name].ID)
	assert.Equal(t, s.name+"-240201", textProperty(ptr(site[s.name]), ReleaseProperty))
	old := site[archive]
	assert.Equal(t, production.ID, old.ID)
	assert.Equal(t, "true", textProperty(&old, SupersededProperty))
	assert.Equal(t, deployed.ID, textProperty(&old, SupersededByProperty))

	broken := s.url + "/v3/missing.qcow2"
	s.writeJSON("manifest.json", map[string]any{s.name: map[string]any{"name": s.name + "-240301", "url": broken}})
	_, err = s.deploy(catalog, false)
	var failed *FailedError
	require.ErrorAs(t, err, &failed)
	assert.Contains(t, failed.Result.Failed[s.name], "404")
	after := s.images()
	assert.Len(t, after, 2, "a failed upload leaves no incoming image")
	assert.Equal(t, site[s.name].ID, after[s.name].ID, "the current image stays")
	assert.Equal(t, site[s.name].UpdatedAt, after[s.name].UpdatedAt)
}

func ptr(image images.Image) *images.Image { return &image }

func TestSpecListUsesTheChecksumAsTheVersion(t *testing.T) {
	s := newSite(t)
	im := testenv.RealImages(t)
	v1 := s.file("a.qcow2", im.QCOW2)
	sum1 := "sha512:" + testenv.SHA512File(t, im.QCOW2)
	spec := "- name: " + s.name + "\n  source_url: " + v1 + "\n  checksum: " + sum1 + "\n  properties: [os_distro=debian]\n"
	catalog := s.write("images.yml", []byte(spec))

	first, err := s.deploy(catalog, false)
	require.NoError(t, err)
	require.Len(t, first.Deployed, 1)
	assert.Equal(t, sum1, first.Deployed[0].Version)
	image := s.images()[s.name]
	assert.Equal(t, "debian", textProperty(&image, "os_distro"))

	again, err := s.deploy(catalog, false)
	require.NoError(t, err)
	assert.False(t, again.Changed)

	v2 := s.file("b.raw", im.Raw)
	s.write("images.yml", []byte("- name: "+s.name+"\n  source_url: "+v2+"\n  version: \"2\"\n  workdir: "+t.TempDir()+"\n"))
	second, err := s.deploy(catalog, false)
	require.NoError(t, err)
	require.Len(t, second.Deployed, 1)
	assert.Equal(t, image.ID, second.Deployed[0].PreviousID)
	assert.Equal(t, sum1, second.Deployed[0].PreviousVersion)
	assert.Equal(t, "qcow2", s.images()[s.name].DiskFormat, "the raw source was converted")
}

func TestAnInterruptedDeployIsFinishedWithoutUploadingAgain(t *testing.T) {
	s := newSite(t)
	im := testenv.RealImages(t)
	v1 := s.file("a.qcow2", im.QCOW2)
	catalog := s.writeJSON("manifest.json", map[string]any{s.name: map[string]any{"name": "r1", "url": v1}})
	// A run that stopped after its upload: the incoming image is there, active.
	waiting, err := s.waiting("r1", v1)
	require.NoError(t, err)

	result, err := s.deploy(catalog, false)
	require.NoError(t, err)
	require.Len(t, result.Deployed, 1)
	assert.Equal(t, waiting.ID, result.Deployed[0].ID, "the waiting upload is promoted, not uploaded again")
	assert.Len(t, s.images(), 1)
}

func TestUnreadableCatalogFailsBeforeAnyChange(t *testing.T) {
	s := newSite(t)
	_, err := s.deploy(s.url+"/nothing-here.json", false)
	assert.ErrorContains(t, err, "reading the catalog")
	_, err = s.deploy(s.write("bad.json", []byte(`{"a": 1}`)), false)
	assert.ErrorContains(t, err, "its format is not recognised")
}

func TestAFailedPromotionGivesTheProductionNameBack(t *testing.T) {
	s := newSite(t)
	im := testenv.RealImages(t)
	catalog, production := s.deployed("r1", s.file("v1.qcow2", im.QCOW2))

	s.writeJSON("manifest.json", map[string]any{s.name: map[string]any{"name": "r2", "url": s.file("v2.qcow2", im.QCOW2)}})
	// Glance fails the PATCH that gives the new image the production name.
	proxied := testenv.FailingGlance(t, s.glance, func(r *http.Request, body []byte) bool {
		return r.Method == http.MethodPatch && !strings.HasSuffix(r.URL.Path, "/images/"+production.ID) &&
			bytes.Contains(body, []byte(`"value":"`+s.name+`"`))
	})
	_, err := New(testenv.GlanceClient(t, proxied), nil).Deploy(context.Background(), Options{CatalogURL: catalog}, false)
	var failed *FailedError
	require.ErrorAs(t, err, &failed)
	assert.Contains(t, failed.Result.Failed[s.name], "500")
	site := s.images()
	require.Contains(t, site, s.name, "the site keeps an image with the production name")
	assert.Equal(t, production.ID, site[s.name].ID, "the previous image has its name back")
	assert.Empty(t, textProperty(ptr(site[s.name]), SupersededProperty))

	result, err := s.deploy(catalog, false)
	require.NoError(t, err, "a run after the failure finishes the deploy")
	require.Len(t, result.Deployed, 1)
	assert.Equal(t, production.ID, result.Deployed[0].PreviousID)
	assert.Equal(t, result.Deployed[0].ID, s.images()[s.name].ID)
}

func TestARunStoppedBetweenTheRenamesIsFinished(t *testing.T) {
	s := newSite(t)
	im := testenv.RealImages(t)
	catalog, production := s.deployed("r1", s.file("v1.qcow2", im.QCOW2))
	// A run that stopped after renaming the previous image: r2 waits, active,
	// under the incoming name, and no image has the production name.
	v2 := s.file("v2.qcow2", im.QCOW2)
	s.writeJSON("manifest.json", map[string]any{s.name: map[string]any{"name": "r2", "url": v2}})
	waiting, err := s.waiting("r2", v2)
	require.NoError(t, err)
	_, err = images.Update(context.Background(), s.glance, production.ID, images.UpdateOpts{
		images.ReplaceImageName{NewName: archiveName(&production, Release{})}}).Extract()
	require.NoError(t, err)

	result, err := s.deploy(catalog, false)
	require.NoError(t, err)
	require.Len(t, result.Deployed, 1)
	site := s.images()
	assert.Equal(t, waiting.ID, site[s.name].ID, "the waiting release is promoted, not uploaded again")
	assert.Equal(t, images.ImageVisibilityPublic, site[s.name].Visibility)
	assert.Equal(t, production.ID, site[archiveName(&production, Release{})].ID)
}

// Deployer runs at once (a first deployment, then a new release over a
// previous one) leave one production image, public, and hand back its ID.
func TestConcurrentDeploymentsLeaveOneProductionImage(t *testing.T) {
	s := newSite(t)
	im := testenv.RealImages(t)
	v1 := s.file("v1/disk.qcow2", im.QCOW2)
	v2 := s.file("v2/disk.qcow2", im.Raw)
	for _, release := range []struct{ version, url string }{{"v1", v1}, {"v2", v2}} {
		catalog := s.writeJSON("manifest.json", map[string]any{s.name: map[string]any{"name": release.version, "url": release.url}})
		const runs = 3
		results := make([]Result, runs)
		errs := make([]error, runs)
		var wg sync.WaitGroup
		for i := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = New(testenv.GlanceClient(t, s.glance, testenv.Patient...), nil).Deploy(context.Background(), Options{CatalogURL: catalog}, false)
			}()
		}
		wg.Wait()
		site := s.images() // fails on two images of one name
		production, ok := site[s.name]
		require.True(t, ok)
		assert.Equal(t, release.version, textProperty(&production, ReleaseProperty))
		assert.Equal(t, images.ImageVisibilityPublic, production.Visibility)
		assert.NotContains(t, site, s.name+incomingSuffix)
		for i := range runs {
			require.NoError(t, errs[i], "run %d, release %s", i, release.version)
			handed := append(results[i].Deployed, results[i].Current...)
			require.Len(t, handed, 1)
			assert.Equal(t, production.ID, handed[0].ID, "run %d, release %s", i, release.version)
		}
	}
	assert.Len(t, s.images(), 2, "the production image and the archived v1")
}
