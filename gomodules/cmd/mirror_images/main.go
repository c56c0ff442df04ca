// Command mirror_images is the imageops.cloud.mirror_images module.
package main

import (
	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/mirror"
)

func main() {
	ansible.Main(mirror.ModuleSpec, mirror.RunModule)
}
