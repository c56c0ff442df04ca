package main

import "github.com/imageops/cloud/gomodules/communityimage"

// imageops.cloud.community_image_batch
func init() { register(communityimage.BatchSpec, communityimage.RunBatchModule) }
