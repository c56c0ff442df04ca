// Command faultproxy serves a testenv.FaultProxy on 127.0.0.1 in front of a
// Glance, for the integration suites: it fails one request in n at random (cycling
// through a 500, a lost answer and a connection reset) and writes its URL
// to a file once it listens. Each fault injected is logged on stderr.
//
//	faultproxy -target http://127.0.0.1:9292 -one-in 5 -url-file proxy.url
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/imageops/cloud/gomodules/internal/testenv"
)

func main() {
	target := flag.String("target", "", "the Glance's base URL")
	every := flag.Int("one-in", 5, "fail one request in this many, at random")
	seed := flag.Int64("seed", 1, "seed of the random choice")
	urlFile := flag.String("url-file", "", "file to write the proxy's URL to")
	flag.Parse()
	decide := testenv.OneIn(*every, uint64(*seed))
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
