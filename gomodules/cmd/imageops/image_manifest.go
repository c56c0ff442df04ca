package main

import "github.com/imageops/cloud/gomodules/manifest"

// imageops.cloud.image_manifest
func init() { register(manifest.ModuleSpec, manifest.RunModule) }
