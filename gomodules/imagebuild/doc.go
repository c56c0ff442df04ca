// Package imagebuild builds bootable disk images (qcow2, raw) from a
// declarative spec without a VM, a loop device or a mount: the root
// filesystem is made in a folder by mmdebstrap, the EFI system partition by
// mkfs.vfat and mtools, the root partition by `mke2fs -d`, and both are
// written into a GPT (sfdisk) in a sparse file that qemu-img converts.
//
// The spec's names follow kubernetes-sigs image-builder (distribution,
// release, packages, kernel_cmdline, ...), and var files are layered in
// order as its PACKER_VAR_FILES are. Beside each image a build record,
// <name>.build.json, holds every variable with its final value and where it
// came from (airship's VariableCatalogue), the packages installed and each
// output's digests; a build whose record matches its spec is not made again.
//
// The module imageops.cloud.image_build (ModuleSpec, RunModule) is the
// Ansible adapter over Load, Plan and Build.
package imagebuild
