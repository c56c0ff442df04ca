package scratch

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const prefix = ".imageops-test-"

// holder runs in a child process (the test binary again): it makes a locked
// directory and a locked file in IMAGEOPS_SCRATCH_PARENT, says so on stdout
// and waits to be killed.
func TestMain(m *testing.M) {
	if parent := os.Getenv("IMAGEOPS_SCRATCH_PARENT"); parent != "" {
		dir, err := MkdirLocked(parent, prefix)
		if err != nil {
			os.Exit(2)
		}
		file, err := CreateLocked(parent, prefix, ".tmp", 0o600)
		if err != nil {
			os.Exit(2)
		}
		os.Stdout.WriteString(dir.Path + "\n" + file.Name() + "\n")
		time.Sleep(time.Hour)
	}
	os.Exit(m.Run())
}

// A live process's directory and file are never reclaimed; once it is
// killed (SIGKILL: no clean-up of its own), they are.
func TestLeftoversOfKilledRunsAreReclaimedOthersNever(t *testing.T) {
	parent := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), "IMAGEOPS_SCRATCH_PARENT="+parent)
	out, err := child.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, child.Start())
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	buf := make([]byte, 4096)
	n, err := out.Read(buf)
	require.NoError(t, err)
	held := strings.Fields(string(buf[:n]))
	require.Len(t, held, 2, "the child's directory and file")

	mine, err := MkdirLocked(parent, prefix)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(mine.Path, "data"), []byte("x"), 0o600))

	removed, err := ReclaimDirs(parent, prefix)
	require.NoError(t, err)
	assert.Empty(t, removed, "a live run's directory (the child's, and this process's own) stays")
	files, err := ReclaimFiles(parent, prefix, ".tmp")
	require.NoError(t, err)
	assert.Empty(t, files)

	require.NoError(t, child.Process.Signal(syscall.SIGKILL))
	_ = child.Wait()
	removed, err = ReclaimDirs(parent, prefix)
	require.NoError(t, err)
	assert.Equal(t, []string{held[0]}, removed, "the killed child's directory")
	files, err = ReclaimFiles(parent, prefix, ".tmp")
	require.NoError(t, err)
	assert.Equal(t, []string{held[1]}, files, "the killed child's file")
	assert.DirExists(t, mine.Path)

	require.NoError(t, mine.Remove())
	entries, err := os.ReadDir(parent)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing left")
}

// A directory whose lock file was never made (a run killed at once) is
// removed only once it is a minute old.
func TestADirectoryWithoutItsLockIsReclaimedWhenOld(t *testing.T) {
	parent := t.TempDir()
	young := filepath.Join(parent, prefix+"young")
	old := filepath.Join(parent, prefix+"old")
	require.NoError(t, os.Mkdir(young, 0o700))
	require.NoError(t, os.Mkdir(old, 0o700))
	require.NoError(t, os.Mkdir(filepath.Join(parent, "unrelated"), 0o700))
	hourAgo := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(old, hourAgo, hourAgo))
	removed, err := ReclaimDirs(parent, prefix)
	require.NoError(t, err)
	assert.Equal(t, []string{old}, removed)
	assert.DirExists(t, young)
	assert.DirExists(t, filepath.Join(parent, "unrelated"))
}

// A run that reclaims leftovers while other runs make their directories
// never removes a directory that MkdirLocked has handed out (the lock file
// taken between its creation and its lock, seen in concurrent batch runs).
func TestReclaimingWhileOthersMakeDirectoriesRemovesNoneInUse(t *testing.T) {
	parent := t.TempDir()
	stop := make(chan struct{})
	reclaimed := make(chan struct{})
	go func() {
		defer close(reclaimed)
		for {
			select {
			case <-stop:
				return
			default:
				_, _ = ReclaimDirs(parent, prefix)
			}
		}
	}()
	for i := 0; i < 2000; i++ {
		dir, err := MkdirLocked(parent, prefix)
		require.NoError(t, err)
		_, err = os.Stat(filepath.Join(dir.Path, lockName))
		require.NoError(t, err, "directory %d was removed while in use", i)
		require.NoError(t, dir.Remove())
	}
	close(stop)
	<-reclaimed
}
