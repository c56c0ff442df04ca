package main

import "github.com/imageops/cloud/gomodules/cleaner"

// imageops.cloud.image_cleaner
func init() { register(cleaner.ModuleSpec, cleaner.RunModule) }
