package imagebuild

import (
	"fmt"
)

// baseRootBytes is what the base system (BasePackages on Debian bookworm,
// amd64: the kernel and its modules, systemd, cloud-init) takes in the root
// filesystem, measured (about 780 MiB) and rounded up. A spec's size is
// checked against it before anything is downloaded; the root's real size
// is checked again after the bootstrap (makeRoot), when packages are known.
const baseRootBytes = 800 * mib

// rootNeeds is the room a root filesystem holding used bytes needs: a fifth
// more for ext4's metadata and first-boot writes, and 128 MiB.
func rootNeeds(used int64) int64 { return used + used/5 + 128*mib }

// diskNeeds is the smallest disk whose root holds used bytes, in bytes.
func diskNeeds(used int64) int64 { return biosStart + biosSize + rootNeeds(used) + gptTail }

// checkSize refuses a disk too small for the base system, saying how much
// is needed.
func (c Config) checkSize() error {
	if need := diskNeeds(baseRootBytes); c.Size < need {
		return fmt.Errorf("too small: the base system takes about %d MiB in the root filesystem, so the disk needs at least %d MiB "+
			"(the ESP and BIOS boot partition %d MiB, the root with room for ext4 and first boot %d MiB); "+
			"expected a size of %dM or more, more with packages", baseRootBytes/mib, need/mib,
			(biosStart+biosSize)/mib, rootNeeds(baseRootBytes)/mib, (need+mib-1)/mib)
	}
	return nil
}
