package redact

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://cloud-images.ubuntu.com/noble/current/noble.img":                                       "https://cloud-images.ubuntu.com/noble/current/noble.img",
		"https://alice:pw@example.org/x.img":                                                            "https://REDACTED@example.org/x.img",
		"https://token-only@example.org/x.img":                                                          "https://REDACTED@example.org/x.img",
		"https://s3.example.org/b/x.img?X-Amz-Credential=AK%2F1&X-Amz-Date=20240101&X-Amz-Signature=ff": "https://s3.example.org/b/x.img?X-Amz-Credential=REDACTED&X-Amz-Date=20240101&X-Amz-Signature=REDACTED",
		"https://s3.example.org/x?X-Amz-Security-Token=FQo&x-amz-expires=60":                            "https://s3.example.org/x?X-Amz-Security-Token=REDACTED&x-amz-expires=60",
		"https://swift.example.org/v1/a/c/x.img?temp_url_sig=ab&temp_url_expires=1":                     "https://swift.example.org/v1/a/c/x.img?temp_url_sig=REDACTED&temp_url_expires=1",
		"https://example.org/x.img?access_token=t&api_key=k&page=2&APIKEY=a&Signature=s&PassWord=p":     "https://example.org/x.img?access_token=REDACTED&api_key=REDACTED&page=2&APIKEY=REDACTED&Signature=REDACTED&PassWord=REDACTED",
		"https://example.org/x.img#access_token=t&state=1":                                              "https://example.org/x.img#access_token=REDACTED&state=1",
		// Unescaped "/", "@", ":" and "?" in passwords.
		"http://alice:pw@host:bad/x?sig=s":    "http://REDACTED@host:bad/x?sig=REDACTED",
		"http://alice:p/w@host:bad/x":         "http://REDACTED@host:bad/x",
		"https://bob:12/s@e/c@ret@host/x.img": "https://REDACTED@host/x.img",
		"https://bob:a:b@host/x.img":          "https://REDACTED@host/x.img",
		"https://bob:pa?ss@host/x.img":        "https://REDACTED@host/x.img",
		"/srv/images/x.img":                   "/srv/images/x.img",
		"file:///srv/images/x.img":            "file:///srv/images/x.img",
	} {
		assert.Equal(t, want, URL(in), in)
	}
}

func TestSecrets(t *testing.T) {
	assert.ElementsMatch(t, []string{"12/s@e/c%40ret", "12/s@e/c@ret", "ff", "AK%2F1", "AK/1"},
		Secrets("https://bob:12/s@e/c%40ret@host/x.img?X-Amz-Signature=ff&X-Amz-Credential=AK%2F1&page=2"))
	assert.ElementsMatch(t, []string{"tok"}, Secrets("https://tok@host/x"))
	assert.Empty(t, Secrets("/srv/x.img"))
	assert.Empty(t, Secrets("https://host/x?page=2"))
}

func TestSplitGivesWhatAClientNeeds(t *testing.T) {
	p := Split("https://bob:p%2Fa/ss@host:8443/x.img?a=1")
	assert.Equal(t, "https", p.Scheme)
	assert.Equal(t, "bob", p.Username())
	password, ok := p.Password()
	assert.True(t, ok)
	assert.Equal(t, "p/a/ss", password)
	assert.Equal(t, "host:8443/x.img?a=1", p.Rest)
}

func TestParseURLKeepsOddPasswordsWhole(t *testing.T) {
	u, err := ParseURL("https://bob:12/s@e@host:8443/v3?x=1")
	assert.NoError(t, err)
	assert.Equal(t, "host:8443", u.Host)
	assert.Equal(t, "/v3", u.Path)
	password, _ := u.User.Password()
	assert.Equal(t, "12/s@e", password)
	assert.Equal(t, "https://bob:12%2Fs%40e@host:8443/v3?x=1", u.String())
}
