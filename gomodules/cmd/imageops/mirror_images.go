package main

import "github.com/imageops/cloud/gomodules/mirror"

// imageops.cloud.mirror_images
func init() { register(mirror.ModuleSpec, mirror.RunModule) }
