// Command imageops is every module of the imageops.cloud collection in one
// multi-call binary, built once per platform as imageops_linux_<arch>.
//
// Each module is registered by one file of this package, <module>.go, which
// only wires: it hands the module package's argument spec and run function to
// register. The binary picks the module from the name it runs under, its
// first argument or the args file's _ansible_module_name (see
// ansible.Registry.Run):
//
//	imageops image_cleaner [--check] [--diff] ARGS_FILE
package main

import "github.com/imageops/cloud/gomodules/ansible"

// modules holds what the <module>.go files register.
var modules ansible.Registry

// register adds a module to the binary; each <module>.go calls it from init.
func register(spec ansible.Spec, run ansible.RunFunc) {
	modules.Register(spec, run)
}

func main() {
	modules.Main()
}
