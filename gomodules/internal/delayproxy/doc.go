// Package delayproxy is a TCP proxy on 127.0.0.1 that delays every byte by
// a fixed one-way latency in each direction, as a network path of that
// latency would (netem is not available to the benchmarks). A new
// connection also pays the TCP handshake's round trip before its first
// byte reaches the server. Bandwidth is not limited beyond what a window of
// 8 MiB in flight per direction allows. It serves the benchmarks and
// tests: both ends must be loopback addresses.
package delayproxy
