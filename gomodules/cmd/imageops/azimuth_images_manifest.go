package main

import "github.com/imageops/cloud/gomodules/azimuthimages"

// imageops.cloud.azimuth_images_manifest
func init() { register(azimuthimages.ModuleSpec, azimuthimages.RunModule) }
