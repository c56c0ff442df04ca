package main

import "github.com/imageops/cloud/gomodules/communityimage"

// imageops.cloud.community_image
func init() { register(communityimage.ModuleSpec, communityimage.RunModule) }
