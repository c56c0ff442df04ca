package convert

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// waitDelay bounds how long a cancelled qemu-img may keep its pipes open.
const waitDelay = 5 * time.Second

// command returns a command for the qemu tool at path that never outlives
// the module: the kernel kills it (SIGKILL) when the module dies, however it
// dies (Linux's parent-death signal, prctl PR_SET_PDEATHSIG), so that a
// killed run leaves no qemu-img writing on. A cancelled ctx kills it too.
func command(ctx context.Context, path string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = waitDelay
	return cmd
}

// runQemuImg runs the qemu-img at path with args and returns its stdout. A
// failure is a *QemuImgError carrying qemu-img's stderr; when ctx ended the
// run, its Err is ctx.Err().
func runQemuImg(ctx context.Context, path string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := command(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, &QemuImgError{Args: args, Stderr: strings.TrimSpace(stderr.String()), Err: err}
	}
	return stdout.Bytes(), nil
}
