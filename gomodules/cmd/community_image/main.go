// Command community_image is the imageops.cloud.community_image module.
package main

import (
	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/communityimage"
)

func main() {
	ansible.Main(communityimage.ModuleSpec, communityimage.RunModule)
}
