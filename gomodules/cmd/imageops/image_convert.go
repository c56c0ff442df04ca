package main

import "github.com/imageops/cloud/gomodules/convert"

// imageops.cloud.image_convert
func init() { register(convert.ModuleSpec, convert.RunModule) }
