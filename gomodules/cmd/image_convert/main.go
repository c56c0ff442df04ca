// Command image_convert is the imageops.cloud.image_convert module.
package main

import (
	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/convert"
)

func main() {
	ansible.Main(convert.ModuleSpec, convert.RunModule)
}
