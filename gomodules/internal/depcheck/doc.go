// Package depcheck holds a test that guards the collection's layering, as
// go-containerregistry's cmd/crane/depcheck_test.go does: the building blocks
// (image conversion, downloads, image references, the binary-module protocol)
// know nothing of Ansible modules or of each other's callers, and each
// module's file in the multi-call binary (gomodules/cmd/imageops) only wires
// the protocol to one package.
package depcheck
