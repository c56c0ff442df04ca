package convert

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"time"
)

// waitDelay bounds how long a cancelled qemu-img may keep its pipes open.
const waitDelay = 5 * time.Second

// runQemuImg runs the qemu-img at path with args and returns its stdout. A
// failure is a *QemuImgError carrying qemu-img's stderr; when ctx ended the
// run, its Err is ctx.Err().
func runQemuImg(ctx context.Context, path string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = waitDelay
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, &QemuImgError{Args: args, Stderr: strings.TrimSpace(stderr.String()), Err: err}
	}
	return stdout.Bytes(), nil
}
