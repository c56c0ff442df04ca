// Command image_manifest is the imageops.cloud.image_manifest module.
package main

import (
	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/manifest"
)

func main() {
	ansible.Main(manifest.ModuleSpec, manifest.RunModule)
}
