// Command image_deployer is the imageops.cloud.image_deployer module. Ansible
// runs it through plugins/action/image_deployer.py; systemd timers run it by
// hand: image_deployer [--check] [--diff] ARGS_FILE (JSON or YAML options).
package main

import (
	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/deployer"
)

func main() {
	ansible.Main(deployer.ModuleSpec, deployer.RunModule)
}
