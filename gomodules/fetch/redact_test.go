package fetch

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://cloud-images.ubuntu.com/noble/current/noble.img":                                       "https://cloud-images.ubuntu.com/noble/current/noble.img",
		"https://alice:pw@example.org/x.img":                                                            "https://REDACTED@example.org/x.img",
		"https://token-only@example.org/x.img":                                                          "https://REDACTED@example.org/x.img",
		"https://s3.example.org/b/x.img?X-Amz-Credential=AK%2F1&X-Amz-Date=20240101&X-Amz-Signature=ff": "https://s3.example.org/b/x.img?X-Amz-Credential=REDACTED&X-Amz-Date=20240101&X-Amz-Signature=REDACTED",
		"https://swift.example.org/v1/a/c/x.img?temp_url_sig=ab&temp_url_expires=1":                     "https://swift.example.org/v1/a/c/x.img?temp_url_sig=REDACTED&temp_url_expires=1",
		"https://example.org/x.img?access_token=t&api_key=k&page=2":                                     "https://example.org/x.img?access_token=REDACTED&api_key=REDACTED&page=2",
		// Unparsable: still nothing of the userinfo.
		"http://alice:pw@host:bad/x?sig=s": "http://REDACTED@host:bad/x?sig=REDACTED",
		"http://alice:p/w@host:bad/x":      "http://REDACTED@host:bad/x",
		"/srv/images/x.img":                "/srv/images/x.img",
	} {
		assert.Equal(t, want, RedactURL(in), in)
	}
}
