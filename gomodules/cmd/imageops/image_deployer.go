package main

import "github.com/imageops/cloud/gomodules/deployer"

// imageops.cloud.image_deployer
func init() { register(deployer.ModuleSpec, deployer.RunModule) }
