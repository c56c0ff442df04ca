# -*- coding: utf-8 -*-
# Copyright: imageops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the Go build of a module that matches the target's platform.

Every module of this collection is a static Go binary, built once per platform
as plugins/modules/<module>_<os>_<arch> (for example community_image_linux_amd64).
plugins/modules/<module>.py holds only the documentation. Each module's action
plugin is this class: it finds the target's OS and CPU (from gathered facts, or
with one `uname -sm` on the target) and runs the matching binary as an
ordinary Ansible binary module, so check mode, diff, no_log and async behave
as for any module.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

# uname's and Ansible facts' names for the CPUs we build for, mapped to Go's GOARCH.
_ARCHITECTURES = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
}
_SYSTEMS = {"linux": "linux"}
_BUILT = "linux/amd64, linux/arm64"


class GoModuleAction(ActionBase):
    """Dispatch a task to the module binary built for the target platform."""

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        self._supports_async = True
        result = super(GoModuleAction, self).run(tmp, task_vars)
        del tmp
        if result.get("skipped"):
            return result

        wrap_async = self._task.async_val and not self._connection.has_native_async
        module = getattr(self._task, "resolved_action", None) or self._task.action
        system, machine = self._target_platform(task_vars or {})
        goos, goarch = _SYSTEMS.get(system.lower()), _ARCHITECTURES.get(machine.lower())
        binary = "%s_%s_%s" % (module, goos, goarch)
        if goos is None or goarch is None or not self._shared_loader_obj.module_loader.has_plugin(binary):
            result.update(failed=True, msg="%s has no build for the target's platform %s %s; builds exist for %s. "
                          "Run `make build` in the collection if you are using a checkout."
                          % (module, system, machine, _BUILT))
            return result

        result = merge_hash(result, self._execute_module(module_name=binary, module_args=self._task.args,
                                                         task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _target_platform(self, task_vars):
        """Return (system, machine) of the target, e.g. ("Linux", "x86_64")."""
        facts = task_vars.get("ansible_facts") or {}
        if facts.get("system") and facts.get("architecture"):
            return facts["system"], facts["architecture"]
        probe = self._low_level_execute_command("uname -sm")
        words = probe.get("stdout", "").split()
        if probe.get("rc") != 0 or len(words) != 2:
            return "unknown", "unknown"
        return words[0], words[1]
