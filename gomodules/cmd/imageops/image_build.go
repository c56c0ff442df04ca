package main

import "github.com/imageops/cloud/gomodules/imagebuild"

// imageops.cloud.image_build
func init() { register(imagebuild.ModuleSpec, imagebuild.RunModule) }
