// Command image_cleaner is the imageops.cloud.image_cleaner module. Ansible
// runs it through plugins/action/image_cleaner.py; systemd timers run it by
// hand: image_cleaner [--check] [--diff] ARGS_FILE (JSON or YAML options).
package main

import (
	"github.com/imageops/cloud/gomodules/ansible"
	"github.com/imageops/cloud/gomodules/cleaner"
)

func main() {
	ansible.Main(cleaner.ModuleSpec, cleaner.RunModule)
}
