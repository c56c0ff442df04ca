// Command faultproxy serves a testenv.FaultProxy on 127.0.0.1 in front of a
// Glance, for the integration suites: it fails one request in n at random (cycling
// through a 500, a lost answer and a connection reset) and writes its URL
// to a file once it listens. Each fault injected is logged on stderr.
//
//	faultproxy -target http://127.0.0.1:9292 -one-in 5 -url-file proxy.url
//
// With -hold-upload-until-token-expires KEYSTONE_URL it injects nothing
// else: it holds the first image data upload or staging (PUT
// /v2/images/ID/file or /stage) until its token has expired, so that the
// real Glance refuses it with 401 (testenv.HoldUntilTokenExpires). -ca
// names the CA of a Glance and Keystone behind TLS.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/imageops/cloud/gomodules/internal/testenv"
)

func main() {
	target := flag.String("target", "", "the Glance's base URL")
	every := flag.Int("one-in", 5, "fail one request in this many, at random")
	seed := flag.Int64("seed", 1, "seed of the random choice")
	urlFile := flag.String("url-file", "", "file to write the proxy's URL to")
	holdUntilExpiry := flag.String("hold-upload-until-token-expires", "", "Keystone's URL: hold the first upload until its token expired, inject nothing else")
	caFile := flag.String("ca", "", "PEM file of the CA that signed Glance's and Keystone's certificates")
	flag.Parse()
	transport, err := transportTrusting(*caFile)
	if err != nil {
		log.Fatal(err)
	}
	decide := testenv.OneIn(*every, uint64(*seed))
	if *holdUntilExpiry != "" {
		decide = testenv.HoldUntilTokenExpires(&http.Client{Transport: transport}, *holdUntilExpiry, isDataUpload, log.Printf)
	}
	names := map[testenv.Fault]string{testenv.Fail: "500", testenv.LoseAnswer: "lost-answer", testenv.Reset: "reset"}
	proxy, err := testenv.NewFaultProxy(*target, func(r *http.Request, body []byte, n int) testenv.Fault {
		fault := decide(r, body, n)
		if fault != testenv.Pass {
			log.Printf("injected %s: %s %s", names[fault], r.Method, r.URL.Path)
		}
		return fault
	})
	if err != nil {
		log.Fatal(err)
	}
	proxy.SetTransport(transport)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	url := "http://" + listener.Addr().String()
	if *urlFile != "" {
		if err := os.WriteFile(*urlFile, []byte(url+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(url)
	log.Fatal(http.Serve(listener, proxy))
}

// isDataUpload selects the requests that send image data: PUT
// /v2/images/ID/file (upload) and /stage (glance-direct).
func isDataUpload(r *http.Request) bool {
	return r.Method == http.MethodPut && (strings.HasSuffix(r.URL.Path, "/file") || strings.HasSuffix(r.URL.Path, "/stage"))
}

// transportTrusting returns a transport that trusts the CA in caFile as
// well as the system's, or http.DefaultTransport when caFile is "".
func transportTrusting(caFile string) (http.RoundTripper, error) {
	if caFile == "" {
		return http.DefaultTransport, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", caFile)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return transport, nil
}
