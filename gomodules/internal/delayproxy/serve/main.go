// Command serve runs a delayproxy.Proxy until SIGINT or SIGTERM, for the
// benchmarks: it prints the address it listens on, then forwards.
//
//	go run ./gomodules/internal/delayproxy/serve -upstream 127.0.0.1:5000 -delay 20ms
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/imageops/cloud/gomodules/internal/delayproxy"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on")
	upstream := flag.String("upstream", "", "loopback address to forward to (required)")
	delay := flag.Duration("delay", 0, "one-way latency added in each direction, such as 20ms")
	flag.Parse()
	if *upstream == "" {
		fmt.Fprintln(os.Stderr, "delayproxy: -upstream is required")
		os.Exit(2)
	}
	p, err := delayproxy.Start(*listen, *upstream, *delay)
	if err != nil {
		fmt.Fprintln(os.Stderr, "delayproxy:", err)
		os.Exit(1)
	}
	fmt.Println(p.Addr())
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	_ = p.Close()
}
