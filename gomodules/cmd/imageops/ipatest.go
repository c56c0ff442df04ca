package main

import "github.com/imageops/cloud/gomodules/ipatest"

// imageops.cloud.ipa_test (this file is not ipa_test.go: Go would read that as a test file)
func init() { register(ipatest.ModuleSpec, ipatest.RunModule) }
