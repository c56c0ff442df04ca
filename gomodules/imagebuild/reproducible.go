package imagebuild

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Reproducibility: the same spec, the same mirror snapshot and the same
// epoch give the same bytes. mmdebstrap stamps what it writes with
// SOURCE_DATE_EPOCH and removes its logs; the tools after it take fixed
// inputs (derived identifiers, see layout) and the epoch:
//   - files written after the bootstrap (maintainer scripts, configure,
//     roles) are stamped with the epoch when newer (clampTimes);
//   - mke2fs -d copies each file's atime and ctime from the folder, and a
//     ctime cannot be set from user space: debugfs sets both to the epoch in
//     the image afterwards (fixInodeTimes);
//   - mkfs.vfat stamps its volume label with the clock: --invariant fixes
//     it (the serial is given with -i), and mtools' mmd stamps directories
//     with the clock: the FAT images are copied from a staging folder whose
//     times are the epoch (mcopy -s -m);
//   - caches and logs that hold times or the build host's state are removed
//     (volatileFiles).

// volatileFiles are removed from the root before its filesystems are made:
// apt's package lists and binary caches (made again by apt update, and
// stale in an image anyway), logs of the build, and ldconfig's cache of the
// build host's view.
var volatileFiles = []string{
	"var/lib/apt/lists/*_*", "var/cache/apt/*.bin", "var/cache/apt/archives/*.deb",
	"var/log/apt/*", "var/log/dpkg.log", "var/log/alternatives.log", "var/log/bootstrap.log",
	"var/cache/ldconfig/aux-cache", "var/cache/debconf/*-old", "var/lib/dpkg/*-old",
	"etc/ssh/ssh_host_*_key", "etc/ssh/ssh_host_*_key.pub",
}

// clampTimes removes volatileFiles and gives every file of dir newer than
// the epoch the epoch as its access and modification time.
func (b *builder) clampTimes(ctx context.Context, dir string) error {
	for _, pattern := range volatileFiles {
		matches, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return fmt.Errorf("matching %q: %w", pattern, err)
		}
		for _, path := range matches {
			if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("removing %q: %w", path, err)
			}
		}
	}
	at := "@" + strconv.FormatInt(b.epoch, 10)
	_, err := b.command(ctx, nil, "find", dir, "-newermt", at, "-exec", "touch", "--no-dereference", "--date="+at, "{}", "+")
	return err
}

// fixInodeTimes sets the access and change times of every inode in use in
// the ext4 image to the epoch, with one debugfs run (mke2fs -d copied them
// from the folder, where the ctime is when the file was last touched).
func (b *builder) fixInodeTimes(ctx context.Context, img string) error {
	out, err := b.command(ctx, nil, "dumpe2fs", img)
	if err != nil {
		return err
	}
	used, err := usedInodes(out)
	if err != nil {
		return fmt.Errorf("reading the inodes in use in %s: %w", img, err)
	}
	var cmds strings.Builder
	for _, ino := range used {
		fmt.Fprintf(&cmds, "sif <%d> atime @%d\nsif <%d> ctime @%d\n", ino, b.epoch, ino, b.epoch)
	}
	script := filepath.Join(b.work, "inode-times.debugfs")
	if err := os.WriteFile(script, []byte(cmds.String()), 0o600); err != nil {
		return fmt.Errorf("writing %q: %w", script, err)
	}
	defer os.Remove(script)
	_, err = b.command(ctx, nil, "debugfs", "-w", "-f", script, img)
	return err
}

// usedInodes reads dumpe2fs's output: the inodes of each group that its
// "Free inodes:" ranges leave out: the root directory (2) and those from the
// first non-reserved inode (the other reserved inodes, the journal's and
// the resize inode, mke2fs stamps with E2FSPROGS_FAKE_TIME itself).
func usedInodes(dump string) ([]int, error) {
	perGroup, total, first := 0, 0, 11
	var free [][2]int
	scanner := bufio.NewScanner(strings.NewReader(dump))
	scanner.Buffer(make([]byte, 1<<20), 1<<24)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		switch {
		case strings.HasPrefix(line, "Inodes per group:"):
			perGroup, _ = strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "Inodes per group:")))
		case strings.HasPrefix(line, "First inode:"):
			first, _ = strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "First inode:")))
		case strings.HasPrefix(line, "Inode count:"):
			total, _ = strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "Inode count:")))
		case strings.HasPrefix(line, "Free inodes: "):
			for _, r := range strings.Split(strings.TrimPrefix(line, "Free inodes: "), ",") {
				lo, hi, err := inodeRange(strings.TrimSpace(r))
				if err != nil {
					return nil, err
				}
				free = append(free, [2]int{lo, hi})
			}
		}
	}
	if perGroup == 0 || total == 0 {
		return nil, fmt.Errorf("dumpe2fs printed no inode count or inodes per group")
	}
	isFree := make([]bool, total+1)
	for _, r := range free {
		for ino := r[0]; ino <= r[1] && ino <= total; ino++ {
			isFree[ino] = true
		}
	}
	used := []int{2}
	for ino := first; ino <= total; ino++ {
		if !isFree[ino] {
			used = append(used, ino)
		}
	}
	return used, nil
}

func inodeRange(r string) (int, int, error) {
	if r == "" {
		return 0, -1, nil
	}
	lo, hi, isRange := strings.Cut(r, "-")
	a, err := strconv.Atoi(lo)
	if err != nil {
		return 0, 0, fmt.Errorf("free inode range %q: %w", r, err)
	}
	if !isRange {
		return a, a, nil
	}
	z, err := strconv.Atoi(hi)
	if err != nil {
		return 0, 0, fmt.Errorf("free inode range %q: %w", r, err)
	}
	return a, z, nil
}
