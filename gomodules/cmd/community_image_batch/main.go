// Command community_image_batch is the imageops.cloud.community_image_batch module.
package main

import (
	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/communityimage"
)

func main() {
	ansible.Main(communityimage.BatchSpec, communityimage.RunBatchModule)
}
