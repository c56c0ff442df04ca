// Command serve runs the Nova STUB of package novastub for integration
// suites and benchmarks, where no real Nova can run:
//
//	go run ./gomodules/cleaner/novastub/serve [-servers FILE] [-max-limit N]
//
// FILE is a JSON list of {id, name, status, tenant_id, image_id}. It prints
// the compute endpoint (for compute_endpoint_override) on stdout, logs each
// request on stderr ("nova-stub: GET /v2.1/servers/detail?..."), and serves
// on 127.0.0.1 until SIGINT or SIGTERM.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/imageops/cloud/gomodules/cleaner/novastub"
)

func main() {
	serversFile := flag.String("servers", "", "JSON list of servers ({id, name, status, tenant_id, image_id})")
	maxLimit := flag.Int("max-limit", novastub.DefaultMaxLimit, "largest page, as Nova's [api]max_limit")
	flag.Parse()
	var servers []novastub.Server
	if *serversFile != "" {
		content, err := os.ReadFile(*serversFile)
		if err != nil {
			log.Fatalf("nova-stub: reading -servers: %v", err)
		}
		if err := json.Unmarshal(content, &servers); err != nil {
			log.Fatalf("nova-stub: -servers %s: expected a JSON list of servers: %v", *serversFile, err)
		}
	}
	logger := log.New(os.Stderr, "nova-stub: ", 0)
	stub, err := novastub.Start(servers, novastub.WithMaxLimit(*maxLimit), novastub.WithRequestLog(logger.Printf))
	if err != nil {
		log.Fatalf("nova-stub: %v", err)
	}
	fmt.Println(stub.URL)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	<-signals
	_ = stub.Close()
}
