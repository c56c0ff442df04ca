// Package testenv gives the collection's tests the real things they run
// against: disk images made by mkfs.ext4 and qemu-img from real files, the
// Debian installer's kernel and initrd, and the local Glance that
// scripts/test.sh starts (scripts/glance.sh).
//
// Tests that need a service call the matching function; it skips the test
// when the service is not configured, unless IMAGEOPS_REQUIRE_SERVICES=1
// (set by `make test`), where a missing service fails the test instead.
package testenv
