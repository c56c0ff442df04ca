// Package scratch makes the working directories and temporary files of a
// run, and removes those that earlier runs left behind when they were killed
// (SIGKILL, OOM, a reboot), without ever touching those of a run still going.
//
// Each one is locked with flock(2) (an exclusive lock held on an open file
// for as long as the run lives; the kernel releases it when the process
// dies, however it dies). A leftover is removed only by a run that takes
// its lock: a live run holds it, so its files are never removed. The locks
// are advisory flock locks, which do not interfere with qemu-img's own
// fcntl (OFD) image locks.
package scratch
